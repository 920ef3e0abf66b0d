// The desktop simulator has no GPIO: an output pin that keeps its level.
export default class Digital {
	static Output = 8;
	#level = 0;
	constructor(options) {
		this.target = options?.target;
	}
	write(v) {
		this.#level = v ? 1 : 0;
	}
	read() {
		return this.#level;
	}
	close() {}
}
