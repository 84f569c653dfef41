// Generates values from JSON Schemas (the subset test/lib/json-schema.ts validates), in the
// spirit of Schemathesis: valid samples biased towards boundaries and the document's own
// examples, and mutations that make a valid sample invalid in one known way. Everything is
// drawn from a seeded generator, so a run repeats exactly from its seed.
import type { seededRandom } from "../helpers";
import { codePoints, deref, escapePointer, isValid, type Schema } from "./json-schema";

export type Rng = ReturnType<typeof seededRandom>;
type Obj = { [keyword: string]: unknown };

/** Where a string will travel: HTTP limits what a header or a URL can carry. */
export type Channel = "body" | "path" | "query" | "header";

export interface SampleOptions {
	channel: Channel;
	/** How often a string, object key set or value with an `example` uses it (0..1). */
	exampleRate: number;
}

// ---- strings from regular expressions -------------------------------------------------------

type Node =
	| { kind: "seq"; items: Node[] }
	| { kind: "alt"; options: Node[] }
	| { kind: "set"; ranges: [number, number][]; negated: boolean }
	| { kind: "char"; code: number }
	| { kind: "repeat"; node: Node; min: number; max: number };

const DIGIT: [number, number][] = [[48, 57]];
const WORD: [number, number][] = [
	[48, 57],
	[65, 90],
	[95, 95],
	[97, 122],
];
const SPACE: [number, number][] = [
	[9, 13],
	[32, 32],
];
const PRINTABLE: [number, number][] = [[32, 126]];
const UNBOUNDED = 12;

/**
 * Parses the regular-expression subset patterns use: classes, escapes, groups, |, quantifiers, ^ $.
 * Lookaheads ((?=...), (?!...)) are parsed and left out of generation: stringFromPattern checks
 * every candidate against the real expression and draws again when a lookahead refuses it.
 */
export function parseRegex(pattern: string): Node {
	let i = 0;
	const peek = () => pattern[i];
	const parseEscape = (inClass: boolean): Node => {
		const c = pattern[i++];
		if (c === "d") return { kind: "set", ranges: DIGIT, negated: false };
		if (c === "w") return { kind: "set", ranges: WORD, negated: false };
		if (c === "s") return { kind: "set", ranges: SPACE, negated: false };
		if (c === "D" || c === "W" || c === "S") return { kind: "set", ranges: c === "D" ? DIGIT : c === "W" ? WORD : SPACE, negated: true };
		if (c === "x") {
			const code = parseInt(pattern.slice(i, i + 2), 16);
			i += 2;
			return { kind: "char", code };
		}
		if (c === "u") {
			const code = parseInt(pattern.slice(i, i + 4), 16);
			i += 4;
			return { kind: "char", code };
		}
		if (c === "n") return { kind: "char", code: 10 };
		if (c === "t") return { kind: "char", code: 9 };
		if (c === "r") return { kind: "char", code: 13 };
		if (c === "f") return { kind: "char", code: 12 };
		if (c === "v") return { kind: "char", code: 11 };
		if (!inClass && /[1-9bB]/.test(c)) throw new Error(`unsupported regex escape \\${c} in ${pattern}`);
		return { kind: "char", code: c.codePointAt(0)! };
	};
	const parseClass = (): Node => {
		const negated = peek() === "^";
		if (negated) i++;
		const ranges: [number, number][] = [];
		let first = true;
		while (i < pattern.length && (peek() !== "]" || first)) {
			first = false;
			let lo: number;
			if (peek() === "\\") {
				i++;
				const e = parseEscape(true);
				if (e.kind === "set") {
					if (e.negated) throw new Error(`unsupported negated escape in a class: ${pattern}`);
					ranges.push(...e.ranges);
					continue;
				}
				lo = (e as { code: number }).code;
			} else lo = pattern.codePointAt(i++)!;
			if (peek() === "-" && pattern[i + 1] !== "]" && i + 1 < pattern.length) {
				i++;
				let hi: number;
				if (peek() === "\\") {
					i++;
					hi = (parseEscape(true) as { code: number }).code;
				} else hi = pattern.codePointAt(i++)!;
				ranges.push([lo, hi]);
			} else ranges.push([lo, lo]);
		}
		i++; // ]
		return { kind: "set", ranges, negated };
	};
	const parseAtom = (): Node | null => {
		const c = pattern[i++];
		if (c === "^" || c === "$") return null; // patterns are generated as whole matches
		if (c === "(") {
			if (pattern.startsWith("?=", i) || pattern.startsWith("?!", i)) {
				i += 2;
				parseAlt();
				i++; // )
				return null;
			}
			if (pattern.startsWith("?:", i)) i += 2;
			else if (peek() === "?") throw new Error(`unsupported group in ${pattern}`);
			const node = parseAlt();
			i++; // )
			return node;
		}
		if (c === "[") return parseClass();
		if (c === "\\") return parseEscape(false);
		if (c === ".") return { kind: "set", ranges: PRINTABLE, negated: false };
		return { kind: "char", code: c.codePointAt(0)! };
	};
	const parseSeq = (): Node => {
		const items: Node[] = [];
		while (i < pattern.length && peek() !== "|" && peek() !== ")") {
			let atom = parseAtom();
			if (!atom) continue;
			const q = peek();
			let min = 1;
			let max = 1;
			if (q === "*" || q === "+" || q === "?") {
				i++;
				[min, max] = q === "*" ? [0, UNBOUNDED] : q === "+" ? [1, UNBOUNDED] : [0, 1];
			} else if (q === "{" && /^\{\d+(,\d*)?\}/.test(pattern.slice(i))) {
				const m = /^\{(\d+)(,(\d*))?\}/.exec(pattern.slice(i))!;
				i += m[0].length;
				min = Number(m[1]);
				max = m[2] === undefined ? min : m[3] === "" ? min + UNBOUNDED : Number(m[3]);
			}
			if (peek() === "?") i++; // lazy: same language
			if (min !== 1 || max !== 1) atom = { kind: "repeat", node: atom, min, max };
			items.push(atom);
		}
		return { kind: "seq", items };
	};
	const parseAlt = (): Node => {
		const options = [parseSeq()];
		while (peek() === "|") {
			i++;
			options.push(parseSeq());
		}
		return options.length === 1 ? options[0] : { kind: "alt", options };
	};
	const node = parseAlt();
	if (i < pattern.length) throw new Error(`could not parse regex ${pattern} at ${i}`);
	return node;
}

/** Beyond ASCII, for negated classes: Latin-1, CJK, an astral code point, a no-break space. */
const NON_ASCII = [0xe9, 0xdf, 0x4e2d, 0x1f600, 0xa0, 0x2009];

function setMembers(node: Extract<Node, { kind: "set" }>): number[] {
	const inSet = (code: number) => node.ranges.some(([lo, hi]) => code >= lo && code <= hi);
	if (node.negated) {
		const out: number[] = [];
		for (let c = 32; c < 127; c++) if (!inSet(c)) out.push(c);
		for (const c of NON_ASCII) if (!inSet(c)) out.push(c);
		return out;
	}
	const out: number[] = [];
	for (const [lo, hi] of node.ranges) for (let c = lo; c <= hi && out.length < 5000; c++) out.push(c);
	return out;
}

/** How many times to repeat: the bounds and their neighbours often, anything in between otherwise. */
function count(r: Rng, min: number, max: number): number {
	const choice = r.int(8);
	if (choice === 0) return min;
	if (choice === 1) return max;
	if (choice === 2) return Math.min(max, min + 1);
	if (choice === 3) return Math.max(min, max - 1);
	if (choice <= 5) return min + r.int(Math.min(max - min, 8) + 1);
	return min + r.int(max - min + 1);
}

/** A string matching the parsed pattern. punctuationOnly draws class members that are not letters or digits. */
function fromRegex(r: Rng, node: Node, punctuationOnly: boolean): string {
	switch (node.kind) {
		case "char":
			return String.fromCodePoint(node.code);
		case "seq":
			return node.items.map((n) => fromRegex(r, n, punctuationOnly)).join("");
		case "alt":
			return fromRegex(r, r.pick(node.options), punctuationOnly);
		case "repeat": {
			const n = count(r, node.min, node.max);
			let out = "";
			for (let k = 0; k < n; k++) out += fromRegex(r, node.node, punctuationOnly);
			return out;
		}
		case "set": {
			const members = setMembers(node);
			const punctuation = members.filter((c) => !/[\p{L}\p{N}]/u.test(String.fromCodePoint(c)));
			return String.fromCodePoint(r.pick(punctuationOnly && punctuation.length > 0 ? punctuation : members));
		}
	}
}

const parsedPatterns = new Map<string, Node>();
const compiled = new Map<string, RegExp>();

/** The pattern as JSON Schema reads it (ECMA-262, unicode). */
export function patternRegExp(pattern: string): RegExp {
	let re = compiled.get(pattern);
	if (!re) {
		re = new RegExp(pattern, "u");
		compiled.set(pattern, re);
	}
	return re;
}

/**
 * A string matching the pattern, checked against the real expression (lookaheads, anchors):
 * drawn again until one matches; throws when the pattern is beyond the parser or 100 draws fail.
 */
export function stringFromPattern(r: Rng, pattern: string, accept: (s: string) => boolean = () => true): string {
	let node = parsedPatterns.get(pattern);
	if (!node) {
		node = parseRegex(pattern);
		parsedPatterns.set(pattern, node);
	}
	const re = patternRegExp(pattern);
	for (let attempt = 0; attempt < 100; attempt++) {
		// Now and then only the class's punctuation ('.', '-', '_'): names like "." or "--".
		const x = fromRegex(r, node, r.int(12) === 0);
		if (re.test(x) && accept(x)) return x;
	}
	throw new Error(`could not generate a string matching ${pattern}`);
}

/**
 * Strings derived from an example: each letter or digit replaced now and then by another of its
 * kind ("2023-12-07" → "2093-12-01"), so the shape of a pattern too hard to generate from is kept.
 */
export function deriveFromExample(r: Rng, example: string): string {
	return [...example]
		.map((c) => {
			if (r.int(3) !== 0) return c;
			if (/[0-9]/.test(c)) return String(r.int(10));
			if (/[a-z]/.test(c)) return String.fromCharCode(97 + r.int(26));
			if (/[A-Z]/.test(c)) return String.fromCharCode(65 + r.int(26));
			return c;
		})
		.join("");
}

// ---- strings without a pattern ---------------------------------------------------------------

const ALPHABETS: Record<string, string[]> = {
	plain: [..."abcdefghijklmnopqrstuvwxyz0123456789"],
	printable: Array.from({ length: 95 }, (_, k) => String.fromCharCode(32 + k)),
	unicode: [..."éßøçñüÅ中文字日本語한국어ЖжΩ€"],
	astral: [..."😀🚀𝟙𝟚𝄞🀄"],
	whitespace: [" ", "\t", "\n", "\u00a0", "\u2009"],
	control: ["\u0000", "\u0001", "\u001f", "\u007f"],
};

function randomString(r: Rng, length: number, channel: Channel): string {
	// Header values are bytes (printable ASCII here); URLs carry anything encodeURIComponent can encode.
	const kinds =
		channel === "header"
			? ["plain", "plain", "printable"]
			: channel === "body"
				? ["plain", "plain", "plain", "printable", "unicode", "astral", "whitespace", "control"]
				: ["plain", "plain", "plain", "printable", "unicode", "astral", "whitespace"];
	const mixed = r.int(3) === 0;
	let kind = r.pick(kinds);
	let out = "";
	for (let k = 0; k < length; k++) {
		if (mixed) kind = r.pick(kinds);
		out += r.pick(ALPHABETS[kind]);
	}
	// A lone surrogate now and then: JSON can carry one (as \ud800), and it is a string.
	if (channel === "body" && length > 0 && r.int(40) === 0) out = [...out].slice(0, -1).join("") + r.pick(["\ud800", "\udfff"]);
	return out;
}

function sampleString(r: Rng, s: Obj, opts: SampleOptions): string {
	const minLength = (s.minLength as number | undefined) ?? 0;
	const maxLength = (s.maxLength as number | undefined) ?? Math.max(minLength + 40, 64);
	const valid = (x: string) => {
		const n = codePoints(x);
		return n >= minLength && n <= maxLength && (s.pattern === undefined || new RegExp(s.pattern as string, "u").test(x));
	};
	const sendable = (x: string) => opts.channel !== "header" || /^[\x20-\x7e]*$/.test(x);
	const example = typeof s.example === "string" && valid(s.example) && sendable(s.example) ? s.example : undefined;
	if (example !== undefined && r.next() < opts.exampleRate) return example;
	// A pattern is generated from; when that fails (a construct the parser does not know, or
	// draws that never pass the other keywords), samples are derived from the example instead.
	let fromPattern = typeof s.pattern === "string";
	for (let attempt = 0; attempt < 50; attempt++) {
		let x: string;
		if (fromPattern) {
			try {
				x = stringFromPattern(r, s.pattern as string, (y) => valid(y) && sendable(y));
			} catch (e) {
				if (example === undefined) throw e;
				fromPattern = false;
				continue;
			}
		} else if (typeof s.pattern === "string") x = attempt === 49 ? example! : deriveFromExample(r, example!);
		else x = randomString(r, count(r, minLength, Math.min(maxLength, minLength + 2000)), opts.channel);
		if (valid(x) && sendable(x)) return x;
	}
	throw new Error(`could not generate a string for ${JSON.stringify(s)}`);
}

// ---- numbers -----------------------------------------------------------------------------------

/** Values that break naive code: zero, negative zero's neighbour, the largest doubles, the tiniest. */
const NUMBER_EDGES = [
	0,
	1,
	-1,
	0.5,
	-2.5,
	1e-7,
	5e-324,
	2 ** 53 - 1,
	2 ** 53 + 2,
	-(2 ** 53),
	1e21,
	1e308,
	1.7976931348623157e308,
	-1.7976931348623157e308,
	// biome-ignore lint/correctness/noPrecisionLoss: a literal that rounds, on purpose (more digits than a double keeps)
	123456789.123456789,
];

function sampleNumber(r: Rng, s: Obj, integer: boolean): number {
	const min =
		(s.minimum as number | undefined) ??
		(typeof s.exclusiveMinimum === "number" ? s.exclusiveMinimum + (integer ? 1 : Number.EPSILON) : undefined);
	const max =
		(s.maximum as number | undefined) ??
		(typeof s.exclusiveMaximum === "number" ? s.exclusiveMaximum - (integer ? 1 : Number.EPSILON) : undefined);
	for (let attempt = 0; attempt < 50; attempt++) {
		let n: number;
		const choice = r.int(6);
		if (choice === 0 && min !== undefined) n = min;
		else if (choice === 1 && max !== undefined) n = max;
		else if (choice === 2) n = r.pick(NUMBER_EDGES);
		else {
			const lo = min ?? (max !== undefined ? max - 1000 : -1000);
			const hi = max ?? lo + 2000;
			n = lo + r.next() * (hi - lo);
			if (r.int(2) === 0) n = Math.round(n * 100) / 100;
		}
		if (integer) n = Math.round(n);
		if (integer && !Number.isSafeInteger(n)) continue;
		if ((min === undefined || n >= min) && (max === undefined || n <= max) && !Object.is(n, -0)) return n;
	}
	return integer ? Math.ceil(min ?? 0) : (min ?? 0);
}

// ---- any schema ----------------------------------------------------------------------------------

/** allOf of objects as one object schema, for generation (validation checks each part). */
function mergeAllOf(root: unknown, s: Obj): Obj {
	const merged: Obj = { type: "object", properties: {}, required: [] as string[] };
	for (const part of s.allOf as Schema[]) {
		const p = deref(root, part) as Obj;
		const q = p.allOf ? mergeAllOf(root, p) : p;
		Object.assign(merged.properties as Obj, q.properties ?? {});
		(merged.required as string[]).push(...((q.required as string[]) ?? []));
		if (q.additionalProperties === false) merged.additionalProperties = false;
	}
	return merged;
}

function typesOf(s: Obj): string[] {
	// A location under anyOf/oneOf (see locations()): every alternative's types.
	if (Array.isArray(s.__alternatives)) return [...new Set((s.__alternatives as Obj[]).flatMap((a) => typesOf(a)))];
	if (s.type !== undefined) {
		const types = Array.isArray(s.type) ? [...(s.type as string[])] : [s.type as string];
		if (s.nullable === true) types.push("null");
		return types;
	}
	if (s.properties || s.additionalProperties !== undefined || s.required) return ["object"];
	if (s.items) return ["array"];
	return ["string", "integer", "boolean", "null"];
}

/** A value valid against the schema. */
export function sample(root: unknown, schema: Schema, r: Rng, opts: SampleOptions, depth = 0): unknown {
	if (schema === true) return sample(root, { type: "string" }, r, opts, depth);
	if (schema === false) throw new Error("cannot sample the false schema");
	const s = deref(root, schema) as Obj;
	if ("const" in s) return structuredClone(s.const);
	// `not`: samples of the rest of the schema, drawn again while one matches what is excluded.
	if (s.not !== undefined) {
		const { not, ...rest } = s;
		for (let attempt = 0; attempt < 50; attempt++) {
			const value = sample(root, rest, r, opts, depth);
			if (!isValid(root, not as Schema, value)) return value;
		}
		throw new Error(`could not generate a value outside 'not' for ${JSON.stringify(s).slice(0, 200)}`);
	}
	// The document's own example, when it is valid (a whole dimension map, a numeric string).
	if (
		s.example !== undefined &&
		r.next() < opts.exampleRate &&
		isValid(root, s, s.example) &&
		(opts.channel !== "header" || /^[\x20-\x7e]*$/.test(String(s.example)))
	) {
		return structuredClone(s.example);
	}
	if (Array.isArray(s.enum)) return structuredClone(r.pick(s.enum));
	if (Array.isArray(s.allOf)) return sample(root, mergeAllOf(root, s), r, opts, depth);
	for (const key of ["anyOf", "oneOf"] as const) {
		if (!Array.isArray(s[key])) continue;
		const { [key]: alternatives, ...rest } = s;
		for (let attempt = 0; attempt < 20; attempt++) {
			const value = sample(root, { ...rest, ...(deref(root, r.pick(alternatives as Schema[])) as Obj) }, r, opts, depth);
			if (isValid(root, s, value)) return value;
		}
		throw new Error(`could not generate a value for ${key} ${JSON.stringify(s).slice(0, 200)}`);
	}
	const type = r.pick(typesOf(s));
	switch (type) {
		case "null":
			return null;
		case "boolean":
			return r.int(2) === 0;
		case "integer":
		case "number":
			if (typeof s.example === "number" && r.next() < opts.exampleRate) return s.example;
			return sampleNumber(r, s, type === "integer");
		case "string":
			return sampleString(r, s, opts);
		case "array": {
			const min = (s.minItems as number | undefined) ?? 0;
			const max = Math.min((s.maxItems as number | undefined) ?? min + 4, min + (r.int(10) === 0 ? 12 : 3), depth > 3 ? min : Infinity);
			const n = min + r.int(max - min + 1);
			return Array.from({ length: n }, () => sample(root, (s.items as Schema) ?? true, r, opts, depth + 1));
		}
		case "object":
			return sampleObject(root, s, r, opts, depth);
	}
	throw new Error(`cannot sample type ${type}`);
}

function sampleObject(root: unknown, s: Obj, r: Rng, opts: SampleOptions, depth: number): Record<string, unknown> {
	const out: Record<string, unknown> = {};
	const properties = (s.properties ?? {}) as Record<string, Schema>;
	const required = new Set((s.required as string[] | undefined) ?? []);
	for (const [name, sub] of Object.entries(properties)) {
		if (required.has(name) || r.int(2) === 0) out[name] = sample(root, sub, r, opts, depth + 1);
	}
	const extra = s.additionalProperties;
	if (extra !== undefined && extra !== false && extra !== true) {
		// A map (e.g. dimensions): the example's keys often, anything else otherwise (as
		// propertyNames allows); now and then many, and now and then exactly maxProperties.
		const names = (s.propertyNames as Schema | undefined) ?? { type: "string", maxLength: 24 };
		const exampleKeys = s.example && typeof s.example === "object" ? Object.keys(s.example).filter((k) => isValid(root, names, k)) : [];
		const room = ((s.maxProperties as number | undefined) ?? Infinity) - Object.keys(out).length;
		const max = Math.min(room, r.int(8) === 0 ? 12 : 3);
		const n = Math.max((s.minProperties as number | undefined) ?? 0, r.int(10) === 0 && room !== Infinity ? room : r.int(max + 1));
		for (let k = 0, tries = 0; k < n && tries < 50; tries++) {
			const key =
				exampleKeys.length > 0 && r.next() < opts.exampleRate ? r.pick(exampleKeys) : (sample(root, names, r, opts, depth + 1) as string);
			if (Object.hasOwn(out, key) || Object.hasOwn(properties, key)) continue;
			const exampleValue = (s.example as Record<string, unknown> | undefined)?.[key];
			const value =
				exampleValue !== undefined && r.next() < opts.exampleRate && isValid(root, extra as Schema, exampleValue)
					? exampleValue
					: sample(root, extra as Schema, r, opts, depth + 1);
			out[key] = value;
			k++;
		}
	}
	return out;
}

// ---- mutations -----------------------------------------------------------------------------------

/** A JSON number written as raw text (1e-400 has no double of its own), spliced in by toJsonText. */
export class RawNumber {
	constructor(readonly text: string) {}
	toJSON() {
		return `\u0000RAW${this.text}\u0000`;
	}
}

/** JSON text of a value that may hold RawNumbers. */
export function toJsonText(value: unknown): string {
	return (JSON.stringify(value) ?? "").replace(/"\\u0000RAW([^"\\]*)\\u0000"/g, "$1");
}

export const HUGE_NUMBERS = [
	"1e308",
	"1.7976931348623157e308",
	"-1.7976931348623157e308",
	"1e-400",
	"1e400",
	"-1e400",
	"4.9e-324",
	"9".repeat(400),
	"-0",
	"0.0000000000000000000000001",
	"123456789012345678901234567890",
];

/** The closest double above (direction 1) or below (-1) a finite n. */
export function nextDouble(n: number, direction: 1 | -1): number {
	if (n === 0) return direction * Number.MIN_VALUE;
	const view = new DataView(new ArrayBuffer(8));
	view.setFloat64(0, n);
	const bits = view.getBigUint64(0);
	view.setBigUint64(0, n > 0 === direction > 0 ? bits + 1n : bits - 1n);
	return view.getFloat64(0);
}

/** A place in a value, and the schema that applies there. */
interface Location {
	path: (string | number)[];
	schema: Obj;
	value: unknown;
}

/** Every location of a value with the (dereferenced) schema that governs it. */
export function locations(root: unknown, schema: Schema, value: unknown, path: (string | number)[] = []): Location[] {
	if (typeof schema === "boolean") return [{ path, schema: {}, value }];
	let s = deref(root, schema) as Obj;
	if (Array.isArray(s.allOf)) s = mergeAllOf(root, s);
	// For anyOf/oneOf: the branch the value matches (its siblings merged in).
	for (const key of ["anyOf", "oneOf"] as const) {
		if (!Array.isArray(s[key])) continue;
		const { [key]: alternatives, ...rest } = s;
		const branch = (alternatives as Schema[]).find((b) => isValid(root, b, value));
		s = { ...rest, ...(branch ? (deref(root, branch) as Obj) : {}), __alternatives: (alternatives as Schema[]).map((a) => deref(root, a)) };
	}
	const out: Location[] = [{ path, schema: s, value }];
	if (Array.isArray(value) && s.items) {
		for (const [i, item] of value.entries()) out.push(...locations(root, s.items as Schema, item, [...path, i]));
	} else if (value !== null && typeof value === "object" && !Array.isArray(value)) {
		const properties = (s.properties ?? {}) as Record<string, Schema>;
		for (const [key, v] of Object.entries(value)) {
			const sub = Object.hasOwn(properties, key) ? properties[key] : s.additionalProperties;
			if (sub !== undefined && sub !== false) out.push(...locations(root, sub as Schema, v, [...path, key]));
		}
	}
	return out;
}

export function setAt(value: unknown, path: (string | number)[], replacement: unknown): unknown {
	if (path.length === 0) return replacement;
	const copy = structuredClone(value) as Record<string | number, unknown>;
	let node = copy;
	for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
	node[path[path.length - 1]] = replacement;
	return copy;
}

export function pointerOf(path: (string | number)[]): string {
	return path.map((p) => `/${escapePointer(p)}`).join("");
}

/** One way to make a value invalid at a location; null when it does not apply there. */
type Mutation = (r: Rng, loc: Location, opts: SampleOptions) => { value: unknown; what: string } | null;

const WRONG_TYPES: [string, unknown][] = [
	["null", null],
	["boolean", true],
	["integer", 7],
	["number", 2.5],
	["string", "text"],
	["array", []],
	["object", {}],
];

/** Mutations of one location: each returns the replacement for that location. */
export const MUTATIONS: Record<string, Mutation> = {
	"wrong type": (r, loc) => {
		const types = typesOf(loc.schema);
		const wrong = WRONG_TYPES.filter(([t]) => !types.includes(t) && !(t === "integer" && types.includes("number")));
		if (wrong.length === 0) return null;
		const [t, v] = r.pick(wrong);
		return { value: structuredClone(v), what: `${t} instead of ${types.join("|")}` };
	},
	"out of range": (r, loc) => {
		const s = loc.schema;
		if (typeof loc.value !== "number") return null;
		const options: [number, string][] = [];
		// Beyond a bound by 1 (or much more), or by the least a double can be where 1 is lost (1.8e308 + 1).
		const step = (n: number, by: number, direction: 1 | -1) => (n + direction * by !== n ? n + direction * by : nextDouble(n, direction));
		if (typeof s.minimum === "number") options.push([step(s.minimum, r.int(2) ? 1 : 1000, -1), "below minimum"]);
		if (typeof s.maximum === "number") options.push([step(s.maximum, r.int(2) ? 1 : 1e9, 1), "above maximum"]);
		if (s.type === "integer") options.push([loc.value + 0.5, "not an integer"]);
		if (options.length === 0) return null;
		const [value, what] = r.pick(options);
		return { value, what };
	},
	"huge or tiny number": (r, loc) => {
		const types = typesOf(loc.schema);
		if (!types.includes("number") && !types.includes("integer")) return null;
		const text = r.pick(HUGE_NUMBERS);
		return { value: new RawNumber(text), what: `number ${text.slice(0, 30)}` };
	},
	"string too long": (r, loc, opts) => {
		const s = loc.schema;
		if (typeof loc.value !== "string" || typeof s.maxLength !== "number") return null;
		const extra = r.pick([1, 2, 100, 10_000]);
		const unit = opts.channel === "header" ? "x" : r.pick(["x", "é", "😀"]);
		return { value: loc.value + unit.repeat(s.maxLength - codePoints(loc.value) + extra), what: `maxLength ${s.maxLength} + ${extra}` };
	},
	"string too short": (_r, loc) => {
		const s = loc.schema;
		if (typeof loc.value !== "string" || typeof s.minLength !== "number" || s.minLength === 0) return null;
		return { value: [...loc.value].slice(0, s.minLength - 1).join(""), what: `below minLength ${s.minLength}` };
	},
	"pattern violated": (r, loc, opts) => {
		const s = loc.schema;
		if (typeof loc.value !== "string" || typeof s.pattern !== "string") return null;
		const bad = opts.channel === "header" ? [" ", "!", "~"] : [" ", "/", "%", "é", "😀", "\n", "..", "a/b", "%2e%2e", "?", "#"];
		const insert = r.pick(bad);
		const at = r.int(loc.value.length + 1);
		const value = r.int(4) === 0 ? insert : loc.value.slice(0, at) + insert + loc.value.slice(at);
		return { value, what: `pattern ${s.pattern} broken with ${JSON.stringify(insert)}` };
	},
	"not in enum": (r, loc) => {
		const s = loc.schema;
		if (!Array.isArray(s.enum) || typeof loc.value !== "string") return null;
		const candidates = [loc.value.toUpperCase(), loc.value.toLowerCase(), ` ${loc.value}`, `${loc.value}x`, ""].filter(
			(c) => !(s.enum as unknown[]).includes(c),
		);
		return { value: r.pick(candidates), what: "not one of the enum" };
	},
	"required field dropped": (r, loc) => {
		const required = (loc.schema.required as string[] | undefined) ?? [];
		if (required.length === 0 || loc.value === null || typeof loc.value !== "object" || Array.isArray(loc.value)) return null;
		// Under anyOf/oneOf the value may still match another alternative without the field.
		if (Array.isArray(loc.schema.__alternatives)) return null;
		const name = r.pick(required);
		const { [name]: _dropped, ...rest } = loc.value as Record<string, unknown>;
		return { value: rest, what: `without '${name}'` };
	},
	"unknown field": (r, loc) => {
		if (loc.schema.additionalProperties !== false || loc.value === null || typeof loc.value !== "object" || Array.isArray(loc.value))
			return null;
		const name = r.pick(["unexpected", "Records", "extra_field", "constructor", "filters", `x${r.int(1000)}`]);
		return { value: { ...(loc.value as object), [name]: r.pick([1, "x", null, {}]) }, what: `unknown field '${name}'` };
	},
	"too many properties": (_r, loc) => {
		const s = loc.schema;
		if (typeof s.maxProperties !== "number" || loc.value === null || typeof loc.value !== "object" || Array.isArray(loc.value)) return null;
		const out = { ...(loc.value as Record<string, unknown>) };
		const filler = Object.values(out)[0] ?? "x";
		for (let k = 0; Object.keys(out).length <= s.maxProperties; k++)
			if (!Object.hasOwn(out, `extra${k}`)) out[`extra${k}`] = structuredClone(filler);
		return { value: out, what: `${Object.keys(out).length} properties (maxProperties ${s.maxProperties})` };
	},
	"property name invalid": (r, loc) => {
		const names = loc.schema.propertyNames as Schema | undefined;
		if (names === undefined || loc.value === null || typeof loc.value !== "object" || Array.isArray(loc.value)) return null;
		const candidates = ["", " ", "\t \n", "__proto__", "a\u0001b", "\u007f", "\u0085", "x".repeat(129), "😀".repeat(129), "\n"].filter(
			(c) => !isValid(null, names, c),
		);
		if (candidates.length === 0) return null;
		const name = r.pick(candidates);
		const value = Object.values(loc.value as object)[0] ?? "x";
		// Defined, not assigned: a "__proto__" key must be an own property, as JSON.parse makes it.
		const out = { ...(loc.value as object) };
		Object.defineProperty(out, name, { value: structuredClone(value), enumerable: true, writable: true, configurable: true });
		return { value: out, what: `property name ${JSON.stringify(name.slice(0, 20))}` };
	},
	"matches not": (r, loc) => {
		const not = loc.schema.not as Obj | undefined;
		if (not === undefined) return null;
		const excluded = Array.isArray(not.enum) ? not.enum : "const" in not ? [not.const] : [];
		if (excluded.length === 0) return null;
		const value = r.pick(excluded);
		return { value: structuredClone(value), what: `${JSON.stringify(value)} (excluded by not)` };
	},
	"too few or too many items": (r, loc) => {
		const s = loc.schema;
		if (!Array.isArray(loc.value)) return null;
		if (typeof s.minItems === "number" && s.minItems > 0 && (typeof s.maxItems !== "number" || r.int(2) === 0))
			return { value: [], what: `empty array (minItems ${s.minItems})` };
		if (typeof s.maxItems === "number")
			return {
				value: [...loc.value, ...Array(s.maxItems + 1 - loc.value.length).fill(loc.value[0] ?? null)],
				what: `maxItems ${s.maxItems} + 1`,
			};
		return null;
	},
};

/** A copy of value made invalid at one location by one mutation, or null if none applies. */
export function mutate(
	root: unknown,
	schema: Schema,
	value: unknown,
	r: Rng,
	opts: SampleOptions,
): { value: unknown; what: string } | null {
	const locs = locations(root, schema, value);
	for (let attempt = 0; attempt < 30; attempt++) {
		const name = r.pick(Object.keys(MUTATIONS));
		const loc = r.pick(locs);
		const result = MUTATIONS[name](r, loc, opts);
		if (result) return { value: setAt(value, loc.path, result.value), what: `${name} at ${pointerOf(loc.path) || "/"}: ${result.what}` };
	}
	return null;
}
