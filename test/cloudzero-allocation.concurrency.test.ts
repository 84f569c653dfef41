// An allocation stream's Durable Object applies concurrent writes one at a time, as the metric
// stream's does (a Durable Object does not hold other calls back while it awaits D1): concurrent
// sum/replace/delete calls end in the state of some serial order, the order the ingest log records.
import { describe, expect, it } from "vitest";
import { allocate, allocationLog, readAllocation, readRows, rec } from "./allocation-helpers";
import { createToken, expectAccepted, seededRandom, uniqueOrg } from "./helpers";

describe("concurrent writes to one allocation stream", () => {
	it("concurrent first writes all succeed and all count", async () => {
		const { token } = await createToken(uniqueOrg());
		const responses = await Promise.all(
			Array.from({ length: 25 }, (_, i) => allocate(token, "fresh", "sum", { records: [rec({ value: i + 1 })] })),
		);
		expect(responses.map((r) => r.status)).toEqual(Array(25).fill(200));
		expect(await readRows(token, "fresh")).toEqual([["2024-02-08", "customer 1", String((25 * 26) / 2)]]);
	});

	it("concurrent first writes of different granularities or filter keys: the first fixes them, the others get 400", async () => {
		const { token } = await createToken(uniqueOrg());
		const variants = [
			rec({ granularity: "HOURLY" }),
			rec({ granularity: "DAILY" }),
			rec({ granularity: "MONTHLY" }),
			rec({ filter: { a: ["1"] } }),
			rec({ filter: { b: ["1"] } }),
			rec({ filter: {} }),
		];
		const responses = await Promise.all(variants.map((r) => allocate(token, "contested", "sum", { records: [r] })));
		const bodies = await Promise.all(responses.map((r) => r.json<{ error?: { code: string } }>()));
		// Any two variants differ in granularity or keys: one wins, whichever came first.
		expect(responses.map((r) => r.status).sort()).toEqual([200, 400, 400, 400, 400, 400]);
		for (const [i, res] of responses.entries()) {
			if (res.status !== 200)
				expect(["inconsistent_granularity", "inconsistent_filter_keys", "invalid_schema"]).toContain(bodies[i].error?.code);
		}
		const winner = variants[responses.findIndex((r) => r.status === 200)];
		const [read] = await readAllocation(token, "contested");
		expect([read.granularity, read.filter]).toEqual([winner.granularity, winner.filter]);
	});

	it("a concurrent sum/replace/delete mix ends in the state its ingest log's serial order gives", async () => {
		const { token } = await createToken(uniqueOrg("alloc-model"));
		const elements = ["c1", "c2", "c3"];
		const groups = [["eu"], ["us"], ["eu", "us"]];
		for (const round of [1, 2, 3]) {
			const stream = `mixed-${round}`;
			const { next, pick, int } = seededRandom(round);
			await expectAccepted(
				await allocate(
					token,
					stream,
					"replace",
					{ records: [rec({ element_name: "c1", filter: { region: ["eu"] }, value: 1 })] },
					{ "X-Request-Id": `seed-${round}` },
				),
			);
			type Call = { op: "sum" | "replace" | "delete"; records: Array<Record<string, unknown>> };
			const calls: Call[] = Array.from({ length: 60 }, () => {
				const roll = next();
				const op = roll < 0.5 ? "sum" : roll < 0.8 ? "replace" : "delete";
				const records = Array.from({ length: 1 + int(3) }, () => {
					const timestamp = pick(["2024-02-08", "2024-02-09"]);
					if (op !== "delete")
						return rec({ timestamp, element_name: pick(elements), filter: { region: pick(groups) }, value: 1 + int(100) });
					const kind = next();
					return {
						timestamp,
						granularity: "DAILY",
						...(kind < 0.5 ? { element_name: pick(elements) } : {}),
						...(kind > 0.3 ? { filter: { region: pick(groups) } } : {}),
					};
				});
				return { op, records };
			});
			const responses = await Promise.all(
				calls.map(async (call, i) => {
					const res = await allocate(token, stream, call.op, { records: call.records }, { "X-Request-Id": `call-${round}-${i}` });
					return { status: res.status, body: await res.json<Record<string, unknown>>() };
				}),
			);
			expect(responses.filter((r) => r.status !== 200).map((r) => JSON.stringify(r.body))).toEqual([]);

			// Replay the calls in the ingest log's order (commit order) against a model.
			const model = new Map<string, number>([["2024-02-08|c1|eu", 1]]);
			const log = (await allocationLog(token, stream)).reverse();
			expect(log.map((e) => e.request_id).sort()).toEqual([`seed-${round}`, ...calls.map((_, i) => `call-${round}-${i}`)].sort());
			for (const entry of log.slice(1)) {
				const i = Number(String(entry.request_id).split("-")[2]);
				const { op, records } = calls[i];
				if (op === "delete") {
					const doomed = [...model.keys()].filter((cell) => {
						const [day, element, region] = cell.split("|");
						return records.some(
							(r) =>
								r.timestamp === day &&
								(r.element_name === undefined || r.element_name === element) &&
								(r.filter === undefined || (r.filter as { region: string[] }).region.join("+") === region),
						);
					});
					for (const cell of doomed) model.delete(cell);
					expect(responses[i].body.values_deleted, `${stream} call ${i}`).toBe(doomed.length);
					continue;
				}
				const totals = new Map<string, number>();
				for (const r of records) {
					const cell = `${r.timestamp}|${r.element_name}|${(r.filter as { region: string[] }).region.join("+")}`;
					totals.set(cell, (totals.get(cell) ?? 0) + Number(r.value));
				}
				for (const [cell, total] of totals) model.set(cell, op === "sum" ? (model.get(cell) ?? 0) + total : total);
			}
			const stored = (await readAllocation(token, stream, "limit=1000")).map(
				(r) => `${r.timestamp}|${r.element_name}|${r.filter.region.join("+")}=${r.value}`,
			);
			expect(stored.sort()).toEqual([...model].map(([cell, value]) => `${cell}=${value}`).sort());
		}
	});
});
