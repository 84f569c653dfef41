// A stream's Durable Object must apply concurrent writes one at a time. It awaits D1 inside
// each write, and a Durable Object does not hold other calls back while it awaits D1, so
// without its own queue these tests fail (duplicate stream creation, lost checks).
import { describe, expect, it } from "vitest";
import { createToken, expectAccepted, type Op, readStream, uniqueOrg, write } from "./helpers";

describe("concurrent writes to one stream", () => {
	it("concurrent first writes to a new stream all succeed and all count", async () => {
		const { token } = await createToken(uniqueOrg());
		const dims = { "custom:Client": "a" };
		const responses = await Promise.all(
			Array.from({ length: 25 }, (_, i) =>
				write(token, "fresh", "sum", { records: [{ timestamp: "2024-01-01", value: i + 1, associated_cost: dims }] }),
			),
		);
		const statuses = await Promise.all(responses.map(async (r) => `${r.status} ${r.status === 200 ? "" : await r.text()}`));
		expect(statuses).toEqual(Array(25).fill("200 "));
		expect(await readStream(token, "fresh")).toEqual([{ timestamp: "2024-01-01", value: String((25 * 26) / 2), associated_cost: dims }]);
	});

	it("concurrent first writes with different dimension keys: the first fixes the keys, the others get 400", async () => {
		const { token } = await createToken(uniqueOrg());
		const keys = ["custom:A", "custom:B", "custom:C", "custom:D", "custom:E", "custom:F"];
		const responses = await Promise.all(
			keys.map((key) =>
				write(token, "contested", "sum", { records: [{ timestamp: "2024-01-01", value: 1, associated_cost: { [key]: "x" } }] }),
			),
		);
		const statuses = responses.map((r) => r.status).sort();
		expect(statuses).toEqual([200, 400, 400, 400, 400, 400]);
		for (const res of responses.filter((r) => r.status === 400)) {
			expect((await res.json<{ error: { code: string } }>()).error.code).toBe("inconsistent_filter_keys");
		}
		expect(await readStream(token, "contested")).toHaveLength(1);
	});

	it("a concurrent sum/replace/delete sequence ends in a value some serial order gives", async () => {
		const { token } = await createToken(uniqueOrg());
		type Step = { op: Exclude<Op, "legacy">; value?: number };
		const steps: Step[] = [
			{ op: "sum", value: 1 },
			{ op: "sum", value: 2 },
			{ op: "replace", value: 100 },
			{ op: "sum", value: 4 },
			{ op: "delete" },
			{ op: "sum", value: 8 },
			{ op: "replace", value: 1000 },
		];
		const possible = serialOutcomes(steps);
		for (let round = 0; round < 8; round++) {
			const stream = `mixed-${round}`;
			// Seed the stream so that delete always finds it.
			await expectAccepted(await write(token, stream, "replace", { records: [{ timestamp: "2024-01-01", value: 0 }] }));
			const responses = await Promise.all(
				steps.map((s) =>
					write(token, stream, s.op, { records: [{ timestamp: "2024-01-01", ...(s.value === undefined ? {} : { value: s.value }) }] }),
				),
			);
			expect(responses.map((r) => r.status)).toEqual(steps.map(() => 200));
			const records = await readStream(token, stream);
			const final = records.length === 0 ? null : Number(records[0].value);
			expect(possible, `round ${round}: ${final}`).toContain(final);
		}
	});
});

/** Every final value that some order of the steps, applied one at a time, can produce (null = deleted). */
function serialOutcomes(steps: Array<{ op: string; value?: number }>): Array<number | null> {
	const outcomes = new Set<number | null>();
	const permute = (remaining: typeof steps, value: number | null) => {
		if (remaining.length === 0) {
			outcomes.add(value);
			return;
		}
		remaining.forEach((step, i) => {
			const rest = [...remaining.slice(0, i), ...remaining.slice(i + 1)];
			const next = step.op === "sum" ? (value ?? 0) + step.value! : step.op === "replace" ? step.value! : null;
			permute(rest, next);
		});
	};
	permute(steps, 0);
	return [...outcomes];
}
