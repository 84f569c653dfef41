import { beforeAll, describe, expect, it } from "vitest";
import { costs, drop, expectDrop, row } from "./costs-helpers";
import { ADMIN, api, createToken, expectError, storageSnapshot, uniqueOrg } from "./helpers";

let org: string;
let token: string;
beforeAll(async () => {
	org = uniqueOrg("costs");
	({ token } = await createToken(org, ["write_costs", "read"]));
});

describe("idempotency and revocation", () => {
	it("replays the same body with the same key, applying nothing; another body gets 409", async () => {
		const body = { operation: "sum", data: [row("2025-01-01T00:00:00Z", 2)] };
		const first = await expectDrop(await drop(token, "idem", body, { "Idempotency-Key": "drop-1" }));
		const again = await drop(token, "idem", body, { "Idempotency-Key": "drop-1" });
		expect(again.headers.get("Idempotent-Replayed")).toBe("true");
		expect(await expectDrop(again)).toEqual(first);
		expect(await costs(token, "dim[Connection]=idem")).toEqual([{ period: "2025-01-01", group: {}, currency: "USD", cost: "2" }]);
		await expectError(
			await drop(token, "idem", { ...body, operation: "replace_drop" }, { "Idempotency-Key": "drop-1" }),
			409,
			"idempotency_key_reused",
		);
		const log = await api("/unit-cost/v1/telemetry/metric/idem/log", { headers: { Authorization: token } });
		expect(log.status).toBe(404); // the ingest log of cost is its own (costs:<connection>), not a stream's
	});

	it("a revoked token cannot drop, and the commit refuses it", async () => {
		const revoked = await createToken(org, ["write_costs"]);
		await expectDrop(await drop(revoked.token, "rev", { data: [row("2025-02-01T00:00:00Z", 1)] }));
		expect((await api(`/admin/v1/tokens/${revoked.id}`, { method: "DELETE", headers: ADMIN })).status).toBe(200);
		const before = await storageSnapshot();
		await expectError(await drop(revoked.token, "rev", { data: [row("2025-02-01T00:00:00Z", 50)] }), 403, "not_authorized");
		expect(await storageSnapshot()).toBe(before);
	});

	it("concurrent drops to one connection are applied one at a time (sums all count)", async () => {
		const results = await Promise.all(
			Array.from({ length: 8 }, () => drop(token, "conc", { operation: "sum", data: [row("2025-03-01T00:00:00Z", 1)] })),
		);
		for (const res of results) await expectDrop(res);
		expect(await costs(token, "dim[Connection]=conc")).toEqual([{ period: "2025-03-01", group: {}, currency: "USD", cost: "8" }]);
	});
});
