// CloudZero keeps one value per UTC day and dimension set: "You may send data in at a higher
// granularity, but the data will be aggregated together to the day." These tests send what
// CloudZero's own UCA toolkit sends (its hourly quick start, replace by default).
import { beforeAll, describe, expect, it } from "vitest";
import { createToken, expectAccepted, expectError, readStream, storageSnapshot, uniqueOrg, write } from "./helpers";

// docs/quick_starts/quick_start_unit_metric_telemetry/scenario_1.md of Cloudzero/cloudzero-uca-tools:
// the records `uca generate` writes for ten hours of ad impressions, exactly as the toolkit sends them.
const UCA_QUICK_START_RECORDS = [
	["2024-02-08 00:00:00+00:00", "10000.00"],
	["2024-02-08 01:00:00+00:00", "10000.00"],
	["2024-02-08 02:00:00+00:00", "20000.00"],
	["2024-02-08 03:00:00+00:00", "30000.00"],
	["2024-02-08 04:00:00+00:00", "30000.00"],
	["2024-02-08 05:00:00+00:00", "10000.00"],
	["2024-02-08 06:00:00+00:00", "10000.00"],
	["2024-02-08 07:00:00+00:00", "20000.00"],
	["2024-02-08 08:00:00+00:00", "30000.00"],
	["2024-02-08 09:00:00+00:00", "30000.00"],
].map(([timestamp, value]) => ({ timestamp, associated_cost: { "custom:product": "product A" }, value }));

let token: string;
beforeAll(async () => {
	({ token } = await createToken(uniqueOrg("days")));
});

describe("replace aggregates a request's records to the day", () => {
	it("stores the day's total of the UCA toolkit's hourly quick start (200,000), not its last hour", async () => {
		await expectAccepted(await write(token, "hourly-cost-per-ad-impression-v1", "replace", { records: UCA_QUICK_START_RECORDS }), 10);
		expect(await readStream(token, "hourly-cost-per-ad-impression-v1")).toEqual([
			{ timestamp: "2024-02-08", value: "200000", associated_cost: { "custom:product": "product A" } },
		]);
		// Sent again (the toolkit's re-run): replace, not add.
		await expectAccepted(await write(token, "hourly-cost-per-ad-impression-v1", "replace", { records: UCA_QUICK_START_RECORDS }), 10);
		expect((await readStream(token, "hourly-cost-per-ad-impression-v1"))[0].value).toBe("200000");
	});

	it("sums per (day, dimension set) only: other days and other dimension values stay apart, in any order", async () => {
		const rec = (timestamp: string, value: number, region: string) => ({ timestamp, value, associated_cost: { Region: region } });
		await expectAccepted(await write(token, "mixed", "sum", { records: [rec("2024-03-01", 1000, "eu"), rec("2024-03-02", 1000, "eu")] }));
		await expectAccepted(
			await write(token, "mixed", "replace", {
				records: [
					rec("2024-03-01T05:00:00Z", 1, "eu"),
					rec("2024-03-01T06:00:00Z", 2, "us"),
					rec("2024-03-01T23:00:00Z", 4, "eu"),
					// 23:30 at -01:00 is 00:30 UTC on the 2nd.
					rec("2024-03-01T23:30:00-01:00", 8, "eu"),
				],
			}),
			4,
		);
		expect(await readStream(token, "mixed")).toEqual([
			{ timestamp: "2024-03-01", value: "5", associated_cost: { Region: "eu" } },
			{ timestamp: "2024-03-01", value: "2", associated_cost: { Region: "us" } },
			{ timestamp: "2024-03-02", value: "8", associated_cost: { Region: "eu" } },
		]);
	});

	it("sum adds the day's records to the stored value, whatever their hours", async () => {
		await expectAccepted(await write(token, "summed", "sum", { records: UCA_QUICK_START_RECORDS }), 10);
		await expectAccepted(await write(token, "summed", "sum", { records: UCA_QUICK_START_RECORDS.slice(0, 2) }), 2);
		expect((await readStream(token, "summed"))[0].value).toBe("220000");
	});

	it("a day's total is rounded to 15 significant digits like any value", async () => {
		const records = Array.from({ length: 10 }, (_, i) => ({ timestamp: `2024-04-01T0${i}:00:00Z`, value: 0.1 }));
		await expectAccepted(await write(token, "tenths", "replace", { records }));
		expect(await readStream(token, "tenths")).toEqual([{ timestamp: "2024-04-01", value: "1" }]);
	});
});

describe("granularity on CloudZero records", () => {
	it("accepts DAILY and HOURLY in any case; both store the day's value", async () => {
		const records = [
			{ timestamp: "2024-05-01T01:00:00Z", value: "3", granularity: "HOURLY" },
			{ timestamp: "2024-05-01T02:00:00Z", value: "4", granularity: "hourly" },
			{ timestamp: "2024-05-02", value: "5", granularity: "DAILY" },
			{ timestamp: "2024-05-03", value: "6", granularity: "Daily" },
		];
		await expectAccepted(await write(token, "granular", "replace", { records }), 4);
		expect(await readStream(token, "granular")).toEqual([
			{ timestamp: "2024-05-01", value: "7" },
			{ timestamp: "2024-05-02", value: "5" },
			{ timestamp: "2024-05-03", value: "6" },
		]);
		await expectAccepted(await write(token, "granular", "sum", { records: [{ timestamp: "2024-05-03", value: 1, granularity: "DAILY" }] }));
		await expectAccepted(await write(token, "granular", "delete", { records: [{ timestamp: "2024-05-02", granularity: "DAILY" }] }));
		expect((await readStream(token, "granular")).map((r) => r.value)).toEqual(["7", "7"]);
	});

	it("refuses any other granularity with 400 naming the accepted ones, and applies nothing", async () => {
		const before = await storageSnapshot();
		for (const granularity of ["MONTHLY", "weekly", "", 1, null, ["DAILY"]]) {
			const error = await expectError(
				await write(token, "granular", "replace", {
					records: [
						{ timestamp: "2024-05-01", value: 1, granularity: "DAILY" },
						{ timestamp: "2024-05-01", value: 1, granularity },
					],
				}),
				400,
				typeof granularity === "string" ? "invalid_granularity" : "invalid_type",
			);
			expect(error.details).toEqual([expect.objectContaining({ record: 1, path: "records[1].granularity" })]);
			expect(error.details?.[0].message).toMatch(/DAILY.*HOURLY/);
		}
		expect(await storageSnapshot()).toBe(before);
	});
});
