import { describe, expect, it } from "vitest";
import { createToken, expectAccepted, readStream, uniqueOrg, write } from "./helpers";

describe("smoke", () => {
	it("sums and reads", async () => {
		const { token } = await createToken(uniqueOrg());
		await expectAccepted(await write(token, "s1", "sum", { records: [{ timestamp: "2023-11-07", value: 1 }] }), 1);
		expect(await readStream(token, "s1")).toEqual([{ timestamp: "2023-11-07", value: "1" }]);
	});
});
