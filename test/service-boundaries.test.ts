// The edges of what the service takes: the largest and smallest doubles, sums that overflow,
// names that no URL can address, dimension names of every shape, spreadsheet formulas in CSV
// cells, timestamps at the 1900 floor and the ±14:00 offsets. Each bad input is refused with a
// catalog code naming its record, changes nothing, and nothing ever answers 5xx.
import { beforeAll, describe, expect, it } from "vitest";
import { ingest, ingestBody, point, readMetric, readMetricRaw, send } from "./cloudthread-helpers";
import { api, createToken, expectAccepted, expectError, json, plainOf, readStream, storageSnapshot, uniqueOrg, write } from "./helpers";

let token: string;
beforeAll(async () => {
	({ token } = await createToken(uniqueOrg("edges")));
});

const day = "2024-01-01";

describe("numbers", () => {
	it("stores the largest and smallest doubles CloudZero's 15 digits can show, and reads them back", async () => {
		const records = [
			{ timestamp: "2024-01-01", value: 1.79769313486231e308 },
			{ timestamp: "2024-01-02", value: "1.79769313486231e308" },
			{ timestamp: "2024-01-03", value: 5e-324 },
			{ timestamp: "2024-01-04", value: "2.2250738585072014e-308" },
			{ timestamp: "2024-01-05", value: "0.000" },
		];
		await expectAccepted(await write(token, "extremes", "sum", { records }), 5);
		expect((await readStream(token, "extremes")).map((r) => r.value)).toEqual([
			plainOf(1.79769313486231e308),
			plainOf(1.79769313486231e308),
			plainOf(5e-324),
			plainOf(2.2250738585072e-308),
			"0",
		]);
	});

	it("refuses a value that rounds to infinity, or is infinite, with value_overflow naming the record", async () => {
		const before = await storageSnapshot();
		for (const value of [1.7976931348623157e308, "1.7976931348623157e308", "1e309", "1.8e308"]) {
			const error = await expectError(
				await write(token, "overflow-one", "sum", {
					records: [
						{ timestamp: day, value: 1 },
						{ timestamp: day, value },
					],
				}),
				400,
				"value_overflow",
			);
			expect(error.details).toEqual([expect.objectContaining({ code: "value_overflow", record: 1, path: "records[1].value" })]);
		}
		// A JSON number literal too large for a double: JSON.parse makes it Infinity.
		// Written every way JSON allows: a long integer, an exponent with leading zeros, space around ':'.
		for (const value of ["1e400", `1${"0".repeat(400)}`, "1.5E+0400", "-1e400"]) {
			for (const colon of [":", " :\n\t"]) {
				const literal = await write(token, "overflow-one", "sum", `{"records":[{"timestamp":"${day}","value"${colon}${value}}]}`);
				const code = value.startsWith("-") ? "negative_value" : "value_overflow";
				expect((await expectError(literal, 400, code)).details?.[0], `${value} after '${colon}'`).toMatchObject({ record: 0 });
			}
		}
		expect(await storageSnapshot()).toBe(before);
	});

	it("refuses two sums whose day's total would overflow, in one request or across requests; reads never fail", async () => {
		// Within one request (both sum and replace add a request's records of one day first).
		for (const op of ["sum", "replace"] as const) {
			const error = await expectError(
				await write(token, "overflow-sum", op, {
					records: [
						{ timestamp: day, value: 1e308 },
						{ timestamp: day, value: "1e308" },
					],
				}),
				400,
				"value_overflow",
			);
			expect(error.details).toEqual([expect.objectContaining({ record: 1, path: "records[1].value" })]);
		}
		// Across requests: only the database sees the stored value and the new one together.
		await expectAccepted(await write(token, "overflow-sum", "sum", { records: [{ timestamp: day, value: 1e308 }] }));
		const before = await storageSnapshot();
		const error = await expectError(
			await write(token, "overflow-sum", "sum", {
				records: [
					{ timestamp: "2024-01-02", value: 5 },
					{ timestamp: day, value: 1e308 },
				],
			}),
			400,
			"value_overflow",
		);
		expect(error.details).toEqual([expect.objectContaining({ record: 1, path: "records[1].value" })]);
		expect(error.message).toMatch(/1 record/);
		expect(await storageSnapshot()).toBe(before); // nothing of the request, not even the valid day
		expect(await readStream(token, "overflow-sum")).toEqual([{ timestamp: day, value: plainOf(1e308) }]);
		const csv = await api("/unit-cost/v1/telemetry/metric/overflow-sum?format=csv", { headers: { Authorization: token } });
		expect(csv.status).toBe(200);
		// Replace still works: it sets rather than adds.
		await expectAccepted(await write(token, "overflow-sum", "replace", { records: [{ timestamp: day, value: 1e308 }] }));
		expect(await readStream(token, "overflow-sum")).toEqual([{ timestamp: day, value: plainOf(1e308) }]);
	});

	it("refuses a non-zero value too small for a double (1e-400) instead of storing 0, as a number or a string", async () => {
		const before = await storageSnapshot();
		for (const body of [
			`{"records":[{"timestamp":"${day}","value":0},{"timestamp":"${day}","value":1e-400}]}`,
			`{"records":[{"timestamp":"${day}","value":0},{"timestamp":"${day}","value":"1e-400"}]}`,
			`{"records":[{"timestamp":"${day}","value":0},{"timestamp":"${day}","value":0.${"0".repeat(400)}1}]}`,
			`{"records":[{"timestamp":"${day}","value":0},{"timestamp":"${day}","value" :\r\n 1.5e-0324}]}`,
		]) {
			const error = await expectError(await write(token, "underflow", "sum", body), 400, "value_underflow");
			expect(error.details).toEqual([expect.objectContaining({ record: 1, path: "records[1].value" })]);
		}
		expect(await storageSnapshot()).toBe(before);
		// Zero written every which way is still zero.
		await expectAccepted(
			await write(
				token,
				"underflow",
				"sum",
				`{"records":[{"timestamp":"${day}","value":0e-400},{"timestamp":"${day}","value":"0.000e-999"}]}`,
			),
		);
	});

	it("Cloudthread: an overflowing Sum is refused naming the data point; an Average of huge values is still exact", async () => {
		const { token: ct } = await createToken(uniqueOrg("edges-ct"));
		await send(ct, "Sum", [point("2024-01-01 00:00:00", "huge", 1e308)]);
		const before = await storageSnapshot();
		const error = await expectError(
			await ingest(ingestBody(ct, "Sum", [point("2024-01-02 00:00:00", "huge", 1), point("2024-01-01 01:00:00", "huge", 1e308)])),
			400,
			"value_overflow",
		);
		expect(error.details).toEqual([expect.objectContaining({ record: 1, path: "data[1].metric_value" })]);
		expect(await storageSnapshot()).toBe(before);
		expect((await readMetric(ct, "huge", "agg=Sum")).data.map((p) => p.metric_value)).toEqual([plainOf(1e308)]);
		// Replacing the hour with a value that fits is fine: the day's Sum is recomputed from its hours.
		await send(ct, "Sum", [point("2024-01-01 00:00:00", "huge", 5e307), point("2024-01-01 01:00:00", "huge", 5e307)]);
		expect((await readMetric(ct, "huge", "agg=Sum")).data.map((p) => p.metric_value)).toEqual([plainOf(1e308)]);

		await send(ct, "Average", [
			point("2024-01-01 00:00:00", "avg", 1.7e308),
			point("2024-01-01 01:00:00", "avg", 1.5e308),
			point("2024-01-01 02:00:00", "avg", -1e308),
		]);
		expect((await readMetric(ct, "avg", "agg=Average")).data.map((p) => p.metric_value)).toEqual([plainOf(7.33333333333333e307)]);
		for (const value of [1.7976931348623157e308, "-1e309", "1e-400"]) {
			const refused = await ingest(ingestBody(ct, "Maximum", [point("2024-01-01 00:00:00", "m", value)]));
			expect([await refused.clone().json()]).toEqual([
				expect.objectContaining({ error: expect.objectContaining({ code: value === "1e-400" ? "value_underflow" : "value_overflow" }) }),
			]);
			expect(refused.status).toBe(400);
		}
	});
});

describe("names that no URL can address", () => {
	const ok = { records: [{ timestamp: day, value: 1 }] };

	it("refuses the stream names . and .. in every encoding the path can carry, before anything is applied", async () => {
		const before = await storageSnapshot();
		const base = "/unit-cost/v1/telemetry/metric";
		// A URL resolves dot segments (also written %2E) before routing: `…/metric/./replace` arrives
		// as a legacy write to a stream named `replace`, which the legacy path refuses; `..` climbs
		// out of …/metric/ to a path that takes no such write.
		for (const segment of [".", "%2E", "%2e"]) {
			for (const op of ["sum", "replace", "delete", "log"]) {
				await expectError(await api(`${base}/${segment}/${op}`, json("POST", ok, { Authorization: token })), 400, "invalid_stream_name");
			}
		}
		for (const segment of ["..", "%2E%2E", ".%2e", "%2e.", "%2e%2E"]) {
			for (const op of ["sum", "replace", "delete"]) {
				const res = await api(`${base}/${segment}/${op}`, json("POST", ok, { Authorization: token }));
				expect([404, 405], `${segment}/${op}`).toContain(res.status);
			}
			const legacy = await api(`${base}/${segment}`, json("POST", ok, { Authorization: token }));
			expect([404, 405], segment).toContain(legacy.status);
		}
		// Cloudthread's read path: the same segments never reach a metric.
		for (const segment of [".", "%2e", "..", "%2e%2e"]) {
			expect((await api(`/streams/metrics/${segment}?agg=Sum`, { headers: { Authorization: token } })).status).toBeLessThan(500);
		}
		expect(await storageSnapshot()).toBe(before);
		// A stream of such a name is still reachable through an explicit operation.
		await expectAccepted(await write(token, "replace", "sum", ok));
		expect(await readStream(token, "replace")).toEqual([{ timestamp: day, value: "1" }]);
		// The name rule itself refuses dot segments wherever a raw one could arrive.
		expect((await api(`${base}/...`, { headers: { Authorization: token } })).status).toBe(404); // a valid name, no such stream
	});

	it("Cloudthread: refuses the metric names . and ..; every accepted name reads back by its URL", async () => {
		const { token: ct } = await createToken(uniqueOrg("edges-names"));
		const before = await storageSnapshot();
		for (const name of [".", ".."]) {
			const error = await expectError(
				await ingest(ingestBody(ct, "Sum", [point("2024-01-01 00:00:00", name, 1)])),
				400,
				"invalid_stream_name",
			);
			expect(error.details).toEqual([expect.objectContaining({ record: 0, path: "data[0].metric_name" })]);
		}
		expect(await storageSnapshot()).toBe(before);
		const names = ["...", ".a", "a/b", "a%2Fb", "%2e", "?x=1", "#frag", " spaced ", "tab\there", "ünïcode ✓", "a\\b", "dim[x]"];
		await send(
			ct,
			"Sum",
			names.map((name, i) => point("2024-01-01 00:00:00", name, i + 1)),
		);
		for (const [i, name] of names.entries()) {
			const res = await readMetricRaw(ct, name, "agg=Sum");
			const body = await res.json<{ metric_name: string; data: Array<{ metric_value: string }> }>();
			expect(res.status, name).toBe(200);
			expect(body.metric_name, name).toBe(name);
			expect(
				body.data.map((p) => p.metric_value),
				name,
			).toEqual([String(i + 1)]);
		}
	});
});

describe("dimension names", () => {
	it("accepts CloudZero display names: custom:, built-ins with spaces, tag: and Tag:, and any printable name", async () => {
		const names = ["custom:Product Group", "Cloud Provider", "tag:environment", "Tag:team", "ünïcode ✓ 名前"];
		const associated_cost = Object.fromEntries(names.map((n) => [n, `v-${n}`]));
		await expectAccepted(await write(token, "display-names", "sum", { records: [{ timestamp: day, value: 2, associated_cost }] }));
		const other = { ...associated_cost, "tag:environment": "staging" };
		await expectAccepted(await write(token, "display-names", "sum", { records: [{ timestamp: day, value: 3, associated_cost: other }] }));
		const res = await readStream(token, "display-names", `dim[${encodeURIComponent("tag:environment")}]=${encodeURIComponent("staging")}`);
		expect(res).toEqual([{ timestamp: day, value: "3", associated_cost: other }]);
	});

	it("every accepted name can be filtered on, including the names of query options and names with brackets", async () => {
		const names = ["limit", "cursor", "format", "x]y["];
		const dims = (v: string) => Object.fromEntries(names.map((n) => [n, `${n}-${v}`]));
		await expectAccepted(
			await write(token, "option-names", "sum", {
				records: [
					{ timestamp: day, value: 1, associated_cost: { ...dims("a"), "tag:dim[z]": "q" } },
					{ timestamp: day, value: 2, associated_cost: { ...dims("b"), "tag:dim[z]": "q" } },
				],
			}),
		);
		for (const name of [...names, "tag:dim[z]"]) {
			const wanted = name === "tag:dim[z]" ? "q" : `${name}-b`;
			for (const encode of [(s: string) => s, encodeURIComponent]) {
				const query = `dim[${encode(name)}]=${encodeURIComponent(wanted)}&limit=10&format=json`;
				const values = (await readStream(token, "option-names", query)).map((r) => r.value);
				expect(values, `${name} ${query}`).toEqual(name === "tag:dim[z]" ? ["1", "2"] : ["2"]);
			}
		}
	});

	it("Cloudthread custom dimensions named like query options are filterable too", async () => {
		const { token: ct } = await createToken(uniqueOrg("edges-ct-dims"));
		await send(ct, "Sum", [
			point("2024-01-01 00:00:00", "m", 1, { agg: "x", limit: "a" }),
			point("2024-01-01 00:00:00", "m", 2, { agg: "y", limit: "b" }),
		]);
		const points = await readMetric(ct, "m", "agg=Sum&dim[agg]=y&dim[limit]=b");
		expect(points.data.map((p) => p.metric_value)).toEqual(["2"]);
	});
});

describe("CSV cells", () => {
	const formulas = ["=1+1", "+SUM(A1:A2)", "-2+3", "@cmd", "\t=x", "\r=x", '=HYPERLINK("http://evil","x")'];

	it("CloudZero: a dimension value or name a spreadsheet would run is prefixed with an apostrophe; JSON is unchanged", async () => {
		const records = formulas.map((v, i) => ({
			timestamp: `2024-01-0${i + 1}`,
			value: i + 1,
			associated_cost: { "=name": v, Region: "-5" },
		}));
		await expectAccepted(await write(token, "formulas", "sum", { records }));
		const res = await api("/unit-cost/v1/telemetry/metric/formulas?format=csv", { headers: { Authorization: token } });
		const csv = await res.text();
		const lines = csv.trimEnd().split("\r\n");
		expect(lines[0]).toBe(`timestamp,value,"'=name",Region`);
		expect(lines[1]).toBe(`2024-01-01,1,"'=1+1",-5`); // a plain number such as -5 is no formula
		expect(lines[2]).toBe(`2024-01-02,2,"'+SUM(A1:A2)",-5`);
		expect(lines[3]).toBe(`2024-01-03,3,"'-2+3",-5`);
		expect(lines[4]).toBe(`2024-01-04,4,"'@cmd",-5`);
		expect(csv).toContain(`"'\t=x"`);
		expect(csv).toContain(`"'\r=x"`);
		expect(csv).toContain(`"'=HYPERLINK(""http://evil"",""x"")"`);
		// No cell other than plain numbers starts with a formula character once unquoted.
		expect((await readStream(token, "formulas")).map((r) => r.associated_cost?.["=name"])).toEqual(formulas);
	});

	it("Cloudthread: the same for custom dimensions; negative metric values stay numbers", async () => {
		const { token: ct } = await createToken(uniqueOrg("edges-csv"));
		await send(ct, "Sum", [point("2024-01-01 00:00:00", "f", -5, { team: "=cmd|'/c calc'!A0", "@who": "+x" })]);
		const res = await readMetricRaw(ct, "f", "agg=Sum&format=csv");
		const [header, row] = (await res.text()).trimEnd().split("\r\n");
		expect(header).toBe(`timestamp,record_id,metric_value,hours,"'@who",team`);
		expect(row).toMatch(/^2024-01-01,[0-9a-f]{32},-5,1,"'\+x","'=cmd\|'\/c calc'!A0"$/);
		expect((await readMetric(ct, "f", "agg=Sum")).data[0].custom_dimensions).toEqual({ team: "=cmd|'/c calc'!A0", "@who": "+x" });
	});
});

describe("timestamps", () => {
	it("checks the 1900 floor after converting to UTC", async () => {
		const refused = await expectError(
			await write(token, "floor", "sum", { records: [{ timestamp: "1900-01-01T00:30:00+01:00", value: 1 }] }),
			400,
			"invalid_timestamp",
		);
		expect(refused.details?.[0]).toMatchObject({ record: 0, path: "records[0].timestamp" });
		expect(refused.details?.[0].message).toMatch(/before 1900-01-01T00:00:00Z/);
		await expectAccepted(
			await write(token, "floor", "sum", {
				records: [
					{ timestamp: "1899-12-31T23:30:00-01:00", value: 1 },
					{ timestamp: "1900-01-01", value: 2 },
				],
			}),
		);
		expect(await readStream(token, "floor")).toEqual([{ timestamp: "1900-01-01", value: "3" }]);
		await expectError(await ingest(ingestBody(token, "Sum", [point("1900-01-01T00:00:00+01:00", "floor", 1)])), 400, "invalid_timestamp");
		await send(token, "Sum", [point("1899-12-31T23:00:00-01:00", "floor", 1)]);
	});

	it("accepts UTC offsets from -14:00 to +14:00 only", async () => {
		await expectAccepted(
			await write(token, "offsets", "sum", {
				records: [
					{ timestamp: "2024-01-01T00:00:00+14:00", value: 1 },
					{ timestamp: "2024-01-01T23:00:00-14:00", value: 1 },
				],
			}),
		);
		expect(await readStream(token, "offsets")).toEqual([
			{ timestamp: "2023-12-31", value: "1" },
			{ timestamp: "2024-01-02", value: "1" },
		]);
		for (const offset of ["+14:01", "-14:30", "+15:00", "+1400x", "+99"]) {
			const res = await write(token, "offsets", "sum", { records: [{ timestamp: `2024-01-01T00:00:00${offset}`, value: 1 }] });
			await expectError(res, 400, "invalid_timestamp");
		}
		for (const offset of ["+14:01", "-14:30"]) {
			await expectError(await ingest(ingestBody(token, "Sum", [point(`2024-01-01T00:00:00${offset}`, "o", 1)])), 400, "invalid_timestamp");
		}
	});
});
