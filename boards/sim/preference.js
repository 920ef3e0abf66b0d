// Preference on the desktop simulator, in place of Moddable's lin module
// ($(MODULES)/files/preference/lin), which does not survive preloading: it
// reads its file in a static initializer, so when the preloaded app imports
// it, that read runs in xsl at build time (and fails quietly there), and the
// app starts with an empty cache on every launch. It also keeps one file,
// /tmp/modpreferences.json, for every app on the machine.
//
// This one keeps no state: every call reads (and set/delete writes) the
// JSON file <data>/mgts-preferences.json, where data is the mc/config
// setting (mcconfig ... data=/some/dir/; default the file module's root,
// /tmp/ on lin). Values: strings, numbers, booleans, ArrayBuffers.
import config from "mc/config";
import { File } from "file";

function path() {
	let dir = config.data ?? config.file.root;
	if (!dir.endsWith("/")) dir += "/";
	return dir + "mgts-preferences.json";
}

function load() {
	try {
		const p = path();
		if (!File.exists(p)) return {};
		const f = new File(p, false);
		try {
			const o = JSON.parse(f.read(String));
			return o !== null && typeof o === "object" ? o : {};
		} finally {
			f.close();
		}
	} catch {
		return {};
	}
}

function save(all) {
	const p = path();
	const tmp = p + ".new";
	if (File.exists(tmp)) File.delete(tmp);
	const f = new File(tmp, true);
	try {
		f.write(JSON.stringify(all));
	} finally {
		f.close();
	}
	File.rename(tmp, p);
}

export default class Preference {
	static get(domain, key) {
		const v = load()[domain]?.[key];
		if (v !== null && typeof v === "object" && typeof v.buffer === "string") return Uint8Array.from(v.buffer.split(",")).buffer;
		return v;
	}
	static set(domain, key, value) {
		const all = load();
		all[domain] ??= {};
		all[domain][key] = value instanceof ArrayBuffer ? { buffer: new Uint8Array(value).toString() } : value;
		save(all);
	}
	static delete(domain, key) {
		const all = load();
		if (all[domain]?.[key] === undefined) return;
		delete all[domain][key];
		if (Object.keys(all[domain]).length === 0) delete all[domain];
		save(all);
	}
	static keys(domain) {
		const d = load()[domain];
		return d ? Object.keys(d) : [];
	}
}
