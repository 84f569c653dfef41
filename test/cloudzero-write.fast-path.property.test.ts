// plainSumRecords, the validation fast path for plainly valid bodies, must agree with the zod
// schema it shortcuts: on every body it accepts, the same records; and it accepts no body the
// schema refuses. Checked on generated bodies, valid ones and ones one mutation away from valid.
import { describe, expect, it } from "vitest";
import { plainSumRecords, SumBodySchema } from "../src/schemas/cloudzero";
import { seededRandom } from "./helpers";

const SEED = 20261129;
const BODIES = 3000;

function generator(seed: number) {
	const r = seededRandom(seed);
	const timestamp = () =>
		r.pick([
			() => `20${10 + r.int(15)}-0${1 + r.int(9)}-1${r.int(9)}`,
			() => `2024-02-08 0${r.int(10)}:00:00+00:00`,
			() =>
				`2023-12-07T${String(r.int(24)).padStart(2, "0")}:${String(r.int(60)).padStart(2, "0")}:00${r.pick(["", "Z", "+05:30", "-0800", "+14:00"])}`,
			() => `1900-01-01T00:30:00+01:00`, // before 1900 once in UTC
			() => `2099-01-01`, // too far ahead
			() => r.pick(["2024-02-30", "yesterday", "", "2024-13-01"]),
		])();
	const value = () =>
		r.pick<() => unknown>([
			() => r.int(100000),
			() => (r.int(1e6) / 1000).toString(),
			() => `${r.int(1000)}.00`,
			() => r.pick(["1e308", "1.7976931348623157e308", "1e-400", "-5", "1,000", " 42 ", "0x10", "", "NaN", 1e308, 5e-324, -0, 0.1 + 0.2]),
			() => `${r.int(10)}.${"1".repeat(r.int(20))}`,
		])();
	const dimensions = () => {
		const names = ["custom:Client", "Region", "tag:environment", "Cloud Provider", "limit", " ", "x".repeat(129), "__proto__"];
		const count = r.int(7);
		const dims: Record<string, unknown> = {};
		for (let i = 0; i < count; i++) dims[r.pick(names)] = r.pick<unknown>(["Patric Star", "eu", "", "x".repeat(1025), 5, ["a"], "a\ud800"]);
		return dims;
	};
	const record = () => {
		const rec: Record<string, unknown> = { timestamp: timestamp(), value: value() };
		if (r.int(3) > 0) rec.associated_cost = dimensions();
		if (r.int(8) === 0) rec.granularity = r.pick(["DAILY", "hourly", "MONTHLY", 1]);
		if (r.int(20) === 0) rec.filters = {};
		if (r.int(20) === 0) delete rec[r.pick(["timestamp", "value"])];
		return rec;
	};
	return () => {
		const body: Record<string, unknown> = { records: Array.from({ length: 1 + r.int(4) }, record) };
		if (r.int(30) === 0) body.extra = 1;
		if (r.int(30) === 0) body.records = [];
		return body;
	};
}

describe("plainSumRecords (the fast path) and SumBodySchema agree", () => {
	it(`on ${BODIES} generated bodies (seed ${SEED}): whatever the fast path accepts, the schema accepts with the same records`, () => {
		const next = generator(SEED);
		let accepted = 0;
		let acceptedBySchema = 0;
		for (let i = 0; i < BODIES; i++) {
			// Through JSON, as bodies arrive (a __proto__ key stays an own property).
			const body = JSON.parse(JSON.stringify(next()).replace('"x__proto__"', '"__proto__"')) as unknown;
			const fast = plainSumRecords(body);
			const schema = SumBodySchema.safeParse(body);
			if (schema.success) acceptedBySchema++;
			if (fast === null) continue;
			accepted++;
			expect(schema.success, JSON.stringify(body)).toBe(true);
			expect(fast, JSON.stringify(body)).toEqual(schema.data!.records.map(({ granularity: _g, ...r }) => r));
		}
		// Both paths were exercised: the fast path takes most of what the schema takes.
		expect(accepted).toBeGreaterThan(BODIES / 20);
		expect(accepted).toBeGreaterThan(acceptedBySchema / 2);
		expect(acceptedBySchema).toBeLessThan(BODIES);
	});
});
