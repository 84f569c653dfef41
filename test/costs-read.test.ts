import { beforeAll, describe, expect, it } from "vitest";
import { drop, expectDrop, row } from "./costs-helpers";
import { api, createToken, expectError, json, uniqueOrg } from "./helpers";

let org: string;
let token: string;
beforeAll(async () => {
	org = uniqueOrg("costs");
	({ token } = await createToken(org, ["write_costs", "read"]));
});

describe("the cost read", () => {
	it("refuses unknown dimensions and options, and writes CSV with formulas neutralized", async () => {
		await expectError(
			await api("/unit-cost/v1/costs?group_by=custom:Nope", { headers: { Authorization: token } }),
			400,
			"unknown_dimension",
		);
		await expectError(await api("/unit-cost/v1/costs?dim[Colour]=red", { headers: { Authorization: token } }), 400, "unknown_dimension");
		const option = await expectError(
			await api("/unit-cost/v1/costs?service=x", { headers: { Authorization: token } }),
			400,
			"invalid_filter",
		);
		expect(option.details).toEqual([
			{
				code: "invalid_filter",
				message:
					"'service' is not a query option of this endpoint (start_date, end_date, granularity, cost_type, group_by, limit, cursor, format); filter by a cost dimension with dim[<name>]=<values> or exclude[<name>]=<values>",
				path: "service",
			},
		]);
		// What is not an option at all is refused before any dimension name is resolved.
		await expectError(
			await api("/unit-cost/v1/costs?dim[Colour]=red&service=x", { headers: { Authorization: token } }),
			400,
			"invalid_filter",
		);
		await expectDrop(await drop(token, "csv", { data: [row("2025-05-01T00:00:00Z", 1, { "resource/service": "=HYPERLINK(1)" })] }));
		const res = await api("/unit-cost/v1/costs?format=csv&group_by=Service&dim[Connection]=csv", { headers: { Authorization: token } });
		expect(await res.text()).toBe('period,Service,currency,cost\r\n2025-05-01,"\'=HYPERLINK(1)",USD,1\r\n');
	});

	it("pages with next_cursor", async () => {
		await expectDrop(await drop(token, "pages", { data: [1, 2, 3].map((d) => row(`2025-06-0${d}T00:00:00Z`, d)) }));
		const first = await api("/unit-cost/v1/costs?dim[Connection]=pages&limit=2", { headers: { Authorization: token } });
		const page = await first.json<{ costs: unknown[]; next_cursor: string }>();
		expect(page.costs).toHaveLength(2);
		const second = await api(`/unit-cost/v1/costs?dim[Connection]=pages&limit=2&cursor=${page.next_cursor}`, {
			headers: { Authorization: token },
		});
		expect(await second.json()).toEqual({ costs: [{ period: "2025-06-03", group: {}, currency: "USD", cost: "3" }], next_cursor: null });
	});
	it("pages in the order of the lines, whatever characters a group value holds", async () => {
		// "a\u0001" sorts after "a" but before "a\n…" would: a cursor compared as one joined string skipped it.
		const values = ["a", "a\u0001", "a\t", "a b", "b"];
		await expectDrop(
			await drop(token, "odd-values", { data: values.map((v, i) => row("2025-07-01T00:00:00Z", i + 1, { "resource/id": v })) }),
		);
		const seen: string[] = [];
		let cursor: string | null = null;
		do {
			const res = await api(
				`/unit-cost/v1/costs?dim[Connection]=odd-values&group_by=Resource&limit=1${cursor ? `&cursor=${cursor}` : ""}`,
				{ headers: { Authorization: token } },
			);
			const page = await res.json<{ costs: Array<{ group: { Resource: string } }>; next_cursor: string | null }>();
			seen.push(...page.costs.map((c) => c.group.Resource));
			cursor = page.next_cursor;
		} while (cursor !== null && seen.length < 10);
		expect(seen).toEqual([...values].sort());
	});

	it("needs the read scope", async () => {
		const { token: dropOnly } = await createToken(org, ["write_costs"]);
		await expectError(await api("/unit-cost/v1/costs", { headers: { Authorization: dropOnly } }), 403, "insufficient_scope");
		void json;
	});
});
