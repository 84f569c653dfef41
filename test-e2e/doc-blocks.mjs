// The shell blocks of the Markdown docs, as test-e2e/doc-blocks.test.mjs runs them, and how their
// printed output is compared with what the docs show. No I/O but `bash -n` (to find where a
// command ends, as a terminal's shell does).
//
// Which blocks run: fences tagged sh, bash or console. A block is skipped only by an HTML comment
// on the line right before its fence, with a reason: <!-- docs-test: skip (needs a Cloudflare account) -->.
//
// Two ways to write a block:
// - Session style (any block with lines starting with "$ "): each "$ " line is a command (with its
//   continuation lines), and the lines after it, up to the next "$ " line, are its output: stdout
//   and stderr as a terminal shows them. Output is always compared (none shown: none expected).
// - Script style (sh and bash blocks without "$ "): every line that is not a comment or blank is
//   part of a command. Comment lines right after a command (no blank line between) show its output,
//   "# " taken off; a comment after a blank line is prose. A command whose output is not shown must
//   succeed (exit code 0), and its output is not compared.
import { spawnSync } from "node:child_process";

/** The fence tags whose blocks run. */
export const SHELL_LANGUAGES = new Set(["sh", "bash", "console"]);

const SKIP_MARKER = /^<!--\s*docs-test:\s*skip\s*\((.*)\)\s*-->\s*$/;
const ANY_MARKER = /^<!--\s*docs-test\b/;
const FENCE = /^(\s*)(`{3,}|~{3,})\s*([^\s`]*)/;

/**
 * A placeholder the reader fills in: <the admin token that npm start printed>, <token-id>. Shell
 * syntax never looks like this: a redirection is followed by a space, a file name or "<".
 */
export const PLACEHOLDER = /<[a-z][a-z0-9 _.:'-]*[a-z0-9]>/gi;

/**
 * @typedef {{ line: number, text: string, expected: string[] | null }} Command
 *   line: its first line in the file. expected: the output the doc shows; null: not shown (script
 *   style), so only its exit code counts.
 * @typedef {{ file: string, line: number, lang: string, style: "session" | "script", skip: string | null,
 *   commands: Command[], problems: string[] }} Block
 *   line: the line of the opening fence. problems: what is wrong with the block as written (a skip
 *   marker without a reason, a session block that runs nothing); the test fails on them.
 */

/**
 * The shell blocks of a Markdown file, in order, with the problems of skip markers that belong to
 * no shell block.
 * @returns {{ blocks: Block[], problems: string[] }}
 */
export function extractBlocks(markdown, file) {
	const lines = markdown.split(/\r?\n/);
	const blocks = [];
	const problems = [];
	for (let i = 0; i < lines.length; i++) {
		const fence = FENCE.exec(lines[i]);
		if (!fence) {
			if (ANY_MARKER.test(lines[i].trim()) && !FENCE.test(lines[i + 1] ?? ""))
				problems.push(`${file}:${i + 1}: a docs-test comment must be on the line right before a code fence`);
			continue;
		}
		const [, indent, marks, lang] = fence;
		let end = i + 1;
		while (
			end < lines.length &&
			!(lines[end].trim().startsWith(marks[0].repeat(marks.length)) && lines[end].trim().replace(/[`~]/g, "") === "")
		)
			end++;
		const body = lines.slice(i + 1, end).map((l) => (l.startsWith(indent) ? l.slice(indent.length) : l.trimStart()));
		const marker = (lines[i - 1] ?? "").trim();
		if (SHELL_LANGUAGES.has(lang.toLowerCase())) {
			blocks.push(parseBlock(body, { file, line: i + 1, lang: lang.toLowerCase(), marker }));
		} else if (ANY_MARKER.test(marker)) {
			problems.push(`${file}:${i}: a docs-test comment before a block that is not sh, bash or console (${lang || "no tag"})`);
		}
		i = end;
	}
	return { blocks, problems };
}

function parseBlock(body, { file, line, lang, marker }) {
	const problems = [];
	let skip = null;
	if (ANY_MARKER.test(marker)) {
		const m = SKIP_MARKER.exec(marker);
		if (!m) problems.push(`${file}:${line - 1}: write the marker as <!-- docs-test: skip (the reason) -->`);
		else if (m[1].trim() === "")
			problems.push(`${file}:${line - 1}: a skipped block needs a reason: <!-- docs-test: skip (the reason) -->`);
		else skip = m[1].trim();
	}
	const session = body.some((l) => l.startsWith("$ ") || l === "$");
	const commands = session ? sessionCommands(body, line) : scriptCommands(body, line);
	if (
		session &&
		body.findIndex((l) => l.startsWith("$ ")) > 0 &&
		body
			.slice(
				0,
				body.findIndex((l) => l.startsWith("$ ")),
			)
			.some((l) => l.trim())
	)
		problems.push(`${file}:${line}: output before the first "$ " command`);
	if (lang === "console" && !session) problems.push(`${file}:${line}: a console block needs "$ " before each command`);
	return { file, line, lang, style: session ? "session" : "script", skip, commands, problems };
}

/** "$ command" lines, their continuations, and the output after each. */
function sessionCommands(body, firstLine) {
	const commands = [];
	let i = 0;
	while (i < body.length && !body[i].startsWith("$")) i++;
	while (i < body.length) {
		const command = { line: firstLine + 1 + i, text: body[i].replace(/^\$ ?/, ""), expected: [] };
		i++;
		while (i < body.length && !isComplete(command.text)) command.text += `\n${body[i++]}`;
		while (i < body.length && !body[i].startsWith("$ ") && body[i] !== "$") command.expected.push(body[i++]);
		command.expected = trimBlankEnds(command.expected);
		commands.push(command);
	}
	return commands;
}

/** Commands of a script block: each complete command, and the comment lines that show its output. */
function scriptCommands(body, firstLine) {
	const commands = [];
	/** The command (or the last of a run of commands) whose output a comment line right after it shows. */
	let last = null;
	let i = 0;
	while (i < body.length) {
		const text = body[i];
		if (text.trim() === "") {
			last = null;
			i++;
		} else if (/^\s*#/.test(text)) {
			if (last) {
				last.expected ??= [];
				last.expected.push(text.replace(/^\s*# ?/, ""));
			}
			i++;
		} else {
			const command = { line: firstLine + 1 + i, text, expected: null };
			i++;
			while (i < body.length && !isComplete(command.text)) command.text += `\n${body[i++]}`;
			commands.push(command);
			last = command;
		}
	}
	return commands;
}

const completeCache = new Map();

/**
 * Whether bash would run this text or ask for more (an open quote, `\` at the end, `for` without
 * `done`). Placeholders count as one word, so that <the admin token …> is not a redirection.
 */
export function isComplete(text) {
	if (/\\$/.test(text)) return false;
	const source = text.replace(PLACEHOLDER, "PLACEHOLDER");
	let complete = completeCache.get(source);
	if (complete === undefined) {
		const check = spawnSync("bash", ["-n"], { input: `${source}\n`, encoding: "utf8" });
		complete = check.status === 0 || !/unexpected end of file|unexpected EOF/.test(check.stderr);
		completeCache.set(source, complete);
	}
	return complete;
}

function trimBlankEnds(lines) {
	let start = 0;
	let end = lines.length;
	while (start < end && lines[start].trim() === "") start++;
	while (end > start && lines[end - 1].trim() === "") end--;
	return lines.slice(start, end);
}

// ---- Comparing output ----

/**
 * What differs from run to run, replaced in both the expected and the actual output before they
 * are compared: secrets and ids (src/auth/tokens.ts: mlt_ + 43, tok_ + 16 base64url characters;
 * the admin token npm start makes, adm_…), UUIDs (request ids, drop ids), the service clock's
 * times (ISO 8601 with milliseconds; a date-time in the data has none), the service's address,
 * and rates and durations.
 */
const TOKEN = /\bmlt_[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])/g;
const TOKEN_ID = /\btok_[A-Za-z0-9_-]{16}(?![A-Za-z0-9_-])/g;
const VOLATILE = [
	[TOKEN, "mlt_…"],
	[TOKEN_ID, "tok_…"],
	[/\badm_[A-Za-z0-9_-]{8,}/g, "adm_…"],
	[/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, "…"],
	[/\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d+Z/g, "…"],
	[/\bhttps?:\/\/(?:localhost|127\.0\.0\.1|\[::1\]):\d+/g, "http://localhost:8787"],
	[/[\d,.]+ (records|rows|requests)\/s\b/g, "… $1/s"],
	[/\b\d+(?:\.\d+)? (s|ms)\b/g, "… $1"],
];

/**
 * A token or token id that the doc shows in a command's output stands, in later commands, for the
 * one the service printed in its place (as the reader types their own): pairs them up, in order,
 * when the doc and the output show as many of them. `aliases`: doc value → value printed.
 */
export function learnAliases(expectedLines, actualText, aliases) {
	const expected = expectedLines.join("\n");
	for (const pattern of [TOKEN, TOKEN_ID]) {
		const shown = expected.match(pattern) ?? [];
		const printed = actualText.match(pattern) ?? [];
		if (shown.length !== printed.length) continue;
		for (const [i, value] of shown.entries()) aliases.set(value, printed[i]);
	}
}

export function normalize(text) {
	let out = text;
	for (const [pattern, replacement] of VOLATILE) out = out.replace(pattern, replacement);
	return out;
}

/** The lines of a command's output as compared: normalized, runs of blanks as one space, trimmed, no blank lines at the ends. */
function outputLines(text) {
	return trimBlankEnds(
		normalize(text.replace(/\r\n?/g, "\n"))
			.split("\n")
			.map((l) => l.replace(/[ \t]+/g, " ").trim()),
	);
}

/**
 * Whether the actual output is what the doc shows. Both are normalized (above). If both parse
 * as JSON, they are compared as values (keys in any order). Otherwise line by line, a line of
 * JSON against a line of JSON as values, any other line as text. "…" in the doc matches
 * anything: in text any characters, as a JSON string any value, and a line that is only "…"
 * any number of lines.
 * @returns {string | null} null if they match, else where they first differ.
 */
export function compareOutput(expectedLines, actualText) {
	const expected = outputLines(expectedLines.join("\n"));
	const actual = outputLines(actualText);
	const whole = [expected.join("\n"), actual.join("\n")].map(parseJson);
	if (whole[0] !== undefined && whole[1] !== undefined) return jsonDifference(whole[0], whole[1], "$");
	return linesDifference(expected, 0, actual, 0);
}

function linesDifference(expected, e, actual, a) {
	for (; e < expected.length; e++, a++) {
		if (expected[e] === "…") {
			if (e === expected.length - 1) return null;
			for (let skip = a; skip <= actual.length; skip++) if (linesDifference(expected, e + 1, actual, skip) === null) return null;
			return `no output matches the lines after the "…" at expected line ${e + 1}`;
		}
		if (a >= actual.length) return `expected line ${e + 1} is missing: ${expected[e]}`;
		const difference = lineDifference(expected[e], actual[a]);
		if (difference) return `line ${a + 1}: ${difference}`;
	}
	if (a < actual.length) return `line ${a + 1} is not in the doc: ${actual[a]}`;
	return null;
}

function lineDifference(expected, actual) {
	const [e, a] = [expected, actual].map(parseJson);
	if (e !== undefined && a !== undefined && (typeof e === "object" || typeof a === "object")) return jsonDifference(e, a, "$");
	return matchesPattern(expected, actual) ? null : `expected ${expected}\n     got ${actual}`;
}

/** Text with "…" as a wildcard. */
function matchesPattern(pattern, text) {
	if (!pattern.includes("…")) return pattern === text;
	const source = pattern
		.split("…")
		.map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
		.join("[^]*?");
	return new RegExp(`^${source}$`).test(text);
}

function parseJson(text) {
	const trimmed = text.trim();
	if (!/^[[{"]/.test(trimmed)) return undefined;
	try {
		return JSON.parse(trimmed);
	} catch {
		return undefined;
	}
}

function jsonDifference(expected, actual, path) {
	if (typeof expected === "string" && expected.includes("…")) {
		if (expected === "…") return null;
		return typeof actual === "string" && matchesPattern(expected, actual)
			? null
			: `${path}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`;
	}
	if (Array.isArray(expected)) {
		if (!Array.isArray(actual)) return `${path}: expected an array, got ${JSON.stringify(actual)}`;
		if (expected.length !== actual.length)
			return `${path}: expected ${expected.length} items, got ${actual.length}: ${JSON.stringify(actual)}`;
		for (let i = 0; i < expected.length; i++) {
			const difference = jsonDifference(expected[i], actual[i], `${path}[${i}]`);
			if (difference) return difference;
		}
		return null;
	}
	if (expected !== null && typeof expected === "object") {
		if (actual === null || typeof actual !== "object" || Array.isArray(actual))
			return `${path}: expected an object, got ${JSON.stringify(actual)}`;
		const missing = Object.keys(expected).filter((k) => !(k in actual));
		const extra = Object.keys(actual).filter((k) => !(k in expected));
		if (missing.length || extra.length)
			return `${path}: ${[missing.length ? `missing ${missing.join(", ")}` : "", extra.length ? `not in the doc: ${extra.map((k) => `${k}=${JSON.stringify(actual[k])}`).join(", ")}` : ""].filter(Boolean).join("; ")}`;
		for (const key of Object.keys(expected)) {
			const difference = jsonDifference(expected[key], actual[key], `${path}.${key}`);
			if (difference) return difference;
		}
		return null;
	}
	return expected === actual ? null : `${path}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`;
}
