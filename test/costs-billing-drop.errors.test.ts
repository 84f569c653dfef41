import { beforeAll, describe, expect, it } from "vitest";
import { drop, row } from "./costs-helpers";
import { createToken, expectError, storageSnapshot, uniqueOrg } from "./helpers";

let org: string;
let token: string;
beforeAll(async () => {
	org = uniqueOrg("costs");
	({ token } = await createToken(org, ["write_costs", "read"]));
});

describe("errors: 400 naming the row, nothing applied", () => {
	const cases: Array<[string, unknown, string, string | undefined]> = [
		[
			"an unknown column",
			{ data: [row("2024-08-01T00:00:00Z", 1), row("2024-08-01T00:00:00Z", 1, { "resource/colour": "red" })] },
			"unknown_field",
			"data[1].resource/colour",
		],
		["a bad cost", { data: [row("2024-08-01T00:00:00Z", "1,000")] }, "invalid_value", "data[0].cost/cost"],
		["a bad timestamp", { data: [row("2024-02-30T00:00:00Z", 1)] }, "invalid_timestamp", "data[0].time/usage_start"],
		["no cost/cost", { data: [{ "time/usage_start": "2024-08-01T00:00:00Z" }] }, "missing_field", "data[0].cost/cost"],
		["no time/usage_start", { data: [{ "cost/cost": 1 }] }, "missing_field", "data[0].time/usage_start"],
		[
			"a tag without resource/id",
			{ data: [row("2024-08-01T00:00:00Z", 1, { "resource/tag:team": "x" })] },
			"missing_field",
			"data[0].resource/id",
		],
		[
			"a row outside the month",
			{ month: "2024-08", data: [row("2024-08-01T00:00:00Z", 1), row("2024-09-01T00:00:00Z", 1)] },
			"row_outside_month",
			"data[1].time/usage_start",
		],
		[
			"rows of several months without month",
			{ data: [row("2024-08-31T23:00:00Z", 1), row("2024-09-01T00:00:00Z", 1)] },
			"row_outside_month",
			"data[1].time/usage_start",
		],
		["an unknown operation", { operation: "replace", data: [row("2024-08-01T00:00:00Z", 1)] }, "invalid_value", "operation"],
		["a bad month", { month: "2024-13", data: [row("2024-08-01T00:00:00Z", 1)] }, "invalid_timestamp", "month"],
		["a number beyond the bound", { data: [row("2024-08-01T00:00:00Z", 1e16)] }, "out_of_range", "data[0].cost/cost"],
		[
			"a text column that is not text",
			{ data: [row("2024-08-01T00:00:00Z", 1, { "resource/account": 123 })] },
			"invalid_type",
			"data[0].resource/account",
		],
		["empty data", { data: [] }, "out_of_range", "data"],
		// As JSON number literals: JSON.parse would read them as Infinity; their text is what is checked.
		[
			"a cost too large for a double",
			`{"data":[{"time/usage_start":"2024-08-01T00:00:00Z","cost/cost":1e400}]}`,
			"out_of_range",
			"data[0].cost/cost",
		],
		[
			"a usage amount too large for a double",
			`{"data":[{"time/usage_start":"2024-08-01T00:00:00Z","cost/cost":1,"usage/amount":-1e999}]}`,
			"out_of_range",
			"data[0].usage/amount",
		],
		[
			"a cost just beyond 10^15",
			{ data: [row("2024-08-01T00:00:00Z", "1000000000000000.0000000001")] },
			"out_of_range",
			"data[0].cost/cost",
		],
		["a cost beyond 10^15 in exponent notation", { data: [row("2024-08-01T00:00:00Z", "-1.1e15")] }, "out_of_range", "data[0].cost/cost"],
		["a cost with a billion-digit exponent", { data: [row("2024-08-01T00:00:00Z", "1e999999999")] }, "out_of_range", "data[0].cost/cost"],
		["a cost that is no decimal number", { data: [row("2024-08-01T00:00:00Z", "1,5")] }, "invalid_value", "data[0].cost/cost"],
		[
			"a tag value with a lone surrogate",
			{ data: [row("2024-08-01T00:00:00Z", 1, { "resource/id": "i", "resource/tag:team": "a\ud800" })] },
			"invalid_unicode",
			"data[0].resource/tag:team",
		],
		[
			"a tag key with a lone surrogate",
			{ data: [row("2024-08-01T00:00:00Z", 1, { "resource/id": "i", "resource/tag:te\udc00am": "x" })] },
			"invalid_unicode",
			"data[0].resource/tag:te\ufffdam",
		],
	];
	for (const [label, body, code, path] of cases) {
		it(label, async () => {
			const before = await storageSnapshot();
			const error = await expectError(await drop(token, "bad", body), 400, code);
			if (path) expect(error.details?.map((d) => d.path)).toContain(path);
			expect(await storageSnapshot()).toBe(before);
		});
	}

	it("a connection id a URL cannot address is refused", async () => {
		await expectError(await drop(token, "%2E%2E%2Dx", { data: [row("2024-08-01T00:00:00Z", 1)] }), 400, "invalid_format");
		await expectError(await drop(token, "a%20b", { data: [row("2024-08-01T00:00:00Z", 1)] }), 400, "invalid_format");
	});

	it("a token without write_costs is refused; a read token cannot drop", async () => {
		const { token: writeOnly } = await createToken(org, ["write", "read"]);
		await expectError(await drop(writeOnly, "scoped", { data: [row("2024-08-01T00:00:00Z", 1)] }), 403, "insufficient_scope");
	});

	it("more than 5 MB is refused with 413", async () => {
		const big = {
			data: Array.from({ length: 60_000 }, (_, i) => row("2024-08-01T00:00:00Z", i, { "lineitem/description": "x".repeat(80) })),
		};
		await expectError(await drop(token, "big", big), 413, "payload_too_large");
	});
});
