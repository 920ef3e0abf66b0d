// The http-server app's built-in web root: a packed filesystem (mg_fs_packed)
// in the form tools/pack.mjs makes from a folder, so the app serves pages on a
// device that has no filesystem. On the host, main({fs, root}) serves a real
// folder instead.
import { mg_utf8_encode, type mg_packed_file } from "../../src/index.js";

const INDEX = `<!doctype html>
<html><head><meta charset="utf-8"><title>mgts http-server</title>
<link rel="stylesheet" href="style.css"></head>
<body><h1>mgts http-server</h1>
<p>Stats: <code id="stats">...</code></p>
<p><input id="a" value="1" size="4"> + <input id="b" value="2" size="4">
<button id="sum">=</button> <span id="result"></span></p>
<script src="app.js"></script></body></html>
`;

const STYLE = `body { font-family: sans-serif; margin: 2em; }
code { background: #eee; padding: 0 .3em; }
`;

const APP = `async function stats() {
  const r = await fetch("/api/stats");
  document.getElementById("stats").textContent = await r.text();
}
document.getElementById("sum").onclick = async () => {
  const a = Number(document.getElementById("a").value);
  const b = Number(document.getElementById("b").value);
  const r = await fetch("/api/sum", { method: "POST", body: JSON.stringify({ a, b }) });
  document.getElementById("result").textContent = (await r.json()).result;
};
stats();
setInterval(stats, 2000);
`;

/** The packed files; made on first use (at run time, not when the module loads). */
export function web_files(): mg_packed_file[] {
  const mtime = 1735689600; // the build's time in a real pack
  return [
    { path: "/index.html", data: mg_utf8_encode(INDEX), mtime },
    { path: "/style.css", data: mg_utf8_encode(STYLE), mtime },
    { path: "/app.js", data: mg_utf8_encode(APP), mtime },
  ];
}
