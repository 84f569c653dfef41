// How test-e2e/doc-blocks.mjs reads blocks and compares output, on small examples (no service).
// Part of `npm run test:docs`.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { compareOutput, extractBlocks, learnAliases } from "./doc-blocks.mjs";

const fence = "```";

describe("extractBlocks", () => {
	it("script style: every line is a command (continuations joined); comments right after one are its output", () => {
		const md = [
			`${fence}sh`,
			"# prose before any command",
			"A=1",
			"curl -s x \\",
			"  -d '{",
			"  }'",
			'# {"ok":true}',
			"",
			"# prose after a blank line",
			"for i in 1 2; do",
			"  echo $i",
			"done",
			"# 1",
			"# 2",
			"echo no output shown",
			fence,
		].join("\n");
		const { blocks, problems } = extractBlocks(md, "x.md");
		assert.deepEqual(problems, []);
		assert.equal(blocks.length, 1);
		const [block] = blocks;
		assert.equal(block.style, "script");
		assert.deepEqual(
			block.commands.map((c) => [c.line, c.text.split("\n").length, c.expected]),
			[
				[3, 1, null],
				[4, 3, ['{"ok":true}']],
				[10, 3, ["1", "2"]],
				[15, 1, null],
			],
		);
	});

	it("session style: $ lines are commands, the lines up to the next one their output", () => {
		const md = [`${fence}console`, "$ echo a \\", "    b", "a b", "$ true", "$ echo c", "c", "", fence].join("\n");
		const [block] = extractBlocks(md, "x.md").blocks;
		assert.equal(block.style, "session");
		assert.deepEqual(
			block.commands.map((c) => [c.text, c.expected]),
			[
				["echo a \\\n    b", ["a b"]],
				["true", []],
				["echo c", ["c"]],
			],
		);
	});

	it("a block is skipped only by a marker with a reason, on the line right before its fence", () => {
		const md = [
			"<!-- docs-test: skip (needs a Cloudflare account) -->",
			`${fence}sh`,
			"npx wrangler deploy",
			fence,
			"<!-- docs-test: skip () -->",
			`${fence}sh`,
			"a",
			fence,
			"<!-- docs-test: skip -->",
			`${fence}bash`,
			"b",
			fence,
			"<!-- docs-test: skip (not before a fence) -->",
			"",
			`${fence}json`,
			"{}",
			fence,
		].join("\n");
		const { blocks, problems } = extractBlocks(md, "x.md");
		assert.deepEqual(
			blocks.map((b) => [b.skip, b.problems.length]),
			[
				["needs a Cloudflare account", 0],
				[null, 1],
				[null, 1],
			],
		);
		assert.equal(problems.length, 1);
		assert.match(problems[0], /x\.md:13: a docs-test comment must be on the line right before a code fence/);
	});

	it("only sh, bash and console blocks run; a console block needs prompts", () => {
		const md = [`${fence}json`, "{}", fence, `${fence}`, "$ ls", fence, `${fence}console`, "ls", fence].join("\n");
		const { blocks } = extractBlocks(md, "x.md");
		assert.equal(blocks.length, 1);
		assert.match(blocks[0].problems[0], /console block needs "\$ "/);
	});
});

describe("compareOutput", () => {
	it("compares JSON as values (key order aside), after replacing ids, tokens, times and addresses", () => {
		const actual =
			'{"request_id":"0b0f3c2e-9a7d-4c1e-8f5a-2d6b7e8f9a0b","id":"tok_y9VsY_m8FLvxGv6D","token":"mlt_pzyzmQbpqxWnuyjrZoyKxW8fkO6zn0N2Tcm1sDeOxSE","created_at":"2026-12-06T12:00:00.123Z","n":1}';
		assert.equal(compareOutput(['{"n":1,"id":"tok_…","token":"mlt_…","created_at":"…","request_id":"…"}'], actual), null);
		assert.match(
			compareOutput(['{"n":2,"id":"tok_…","token":"mlt_…","created_at":"…","request_id":"…"}'], actual),
			/\$\.n: expected 2, got 1/,
		);
		assert.match(compareOutput(['{"n":1}'], actual), /not in the doc: request_id/);
	});

	it("a date-time in the data is compared as it is (only the clock's, with milliseconds, is replaced)", () => {
		assert.notEqual(compareOutput(['{"t":"2024-01-01T00:00:00Z"}'], '{"t":"2024-01-02T00:00:00Z"}'), null);
	});

	it("text line by line, blanks collapsed; … matches any characters, a line of … any lines", () => {
		const actual = "Sent 270 records in 0.4 s (647 records/s) to http://127.0.0.1:8841\nx\ny\nlast\n";
		assert.equal(compareOutput(["Sent 270 records in 0.2 s (1,484 records/s) to http://localhost:8787", "…", "last"], actual), null);
		assert.equal(compareOutput(["Sent …", "x", "y", "last"], actual), null);
		assert.match(compareOutput(["Sent 271 records …", "…", "last"], actual), /line 1/);
		assert.match(compareOutput(["Sent …"], actual), /line 2 is not in the doc/);
		assert.match(compareOutput(["a", "b"], "a\n"), /expected line 2 is missing/);
		assert.equal(compareOutput(["ID    NAME"], "ID  NAME  \n"), null);
	});

	it("nothing shown means nothing printed", () => {
		assert.equal(compareOutput([], "\n"), null);
		assert.notEqual(compareOutput([], "something\n"), null);
	});
});

describe("learnAliases", () => {
	it("pairs the tokens and ids the doc shows with those printed, when they are as many", () => {
		const aliases = new Map();
		learnAliases(
			["Created token tok_y9VsY_m8FLvxGv6D", "Secret: mlt_pzyzmQbpqxWnuyjrZoyKxW8fkO6zn0N2Tcm1sDeOxSE"],
			"Created token tok__UabxAXOhO0HY7GH\nSecret: mlt_ynLaimUAEem89WExGEeIX5Q6bzQIJf3bqXz_lPJd2ic\n",
			aliases,
		);
		assert.deepEqual(
			[...aliases],
			[
				["mlt_pzyzmQbpqxWnuyjrZoyKxW8fkO6zn0N2Tcm1sDeOxSE", "mlt_ynLaimUAEem89WExGEeIX5Q6bzQIJf3bqXz_lPJd2ic"],
				["tok_y9VsY_m8FLvxGv6D", "tok__UabxAXOhO0HY7GH"],
			],
		);
	});
});
