// The issue-10 pipelining reproduction, shared by test/http-answers.test.ts
// (mock, Node and XS) and test/http-answers.node.test.ts (loopback); not a
// suite itself.

/**
 * n pipelined POST /api/sum requests, {"a": i, "b": 1000}: short on purpose,
 * so that one read holds more requests than the send buffer holds answers.
 */
export function sum_requests(n: number): string {
  let s = "";
  for (let i = 0; i < n; i++) {
    const body = `{"a":${i},"b":1000}`;
    s += `POST /api/sum HTTP/1.1\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
  }
  return s;
}

/** The results in the answers, in the order they came. */
export function sum_results(out: string): number[] {
  const results: number[] = [];
  const re = /\{"result":(\d+)\}/g;
  for (let m = re.exec(out); m !== null; m = re.exec(out)) results.push(Number(m[1]));
  return results;
}

/** What sum_results should give for sum_requests(n). */
export function sum_expected(n: number): number[] {
  const want: number[] = [];
  for (let i = 0; i < n; i++) want.push(1000 + i);
  return want;
}
