// The admin API: tokens created, listed and revoked behind the deployment's ADMIN_TOKEN.
import { describe, expect, it } from "vitest";
import { ADMIN, api, createToken, expectError, json, uniqueOrg } from "./helpers";

describe("admin API", () => {
	it("needs the ADMIN_TOKEN as a bearer token", async () => {
		for (const headers of [{} as Record<string, string>, { Authorization: "Bearer wrong" }, { Authorization: "test-admin-token-x" }]) {
			await expectError(await api("/admin/v1/tokens", json("POST", { org: "x", name: "y" }, headers)), 403, "not_authorized");
			await expectError(await api("/admin/v1/tokens?org=x", { headers }), 403, "not_authorized");
			await expectError(await api("/admin/v1/tokens/tok_abc", { method: "DELETE", headers }), 403, "not_authorized");
		}
	});

	it("takes the ADMIN_TOKEN with or without 'Bearer ', as stream tokens, and as the documents say", async () => {
		const org = uniqueOrg("admin-raw");
		for (const Authorization of ["Bearer test-admin-token", "bearer   test-admin-token", "test-admin-token"]) {
			const created = await api("/admin/v1/tokens", json("POST", { org, name: "x", scopes: ["read"] }, { Authorization }));
			expect(created.status, Authorization).toBe(201);
			const { id } = await created.json<{ id: string }>();
			expect((await api(`/admin/v1/tokens?org=${org}`, { headers: { Authorization } })).status, Authorization).toBe(200);
			expect((await api(`/admin/v1/tokens/${id}`, { method: "DELETE", headers: { Authorization } })).status, Authorization).toBe(200);
		}
		const refused = await expectError(
			await api("/admin/v1/tokens?org=x", { headers: { Authorization: "Bearer wrong" } }),
			403,
			"not_authorized",
		);
		expect(refused.message).toContain("'Bearer <ADMIN_TOKEN>', or the token alone");
		const doc = await (await api("/openapi.json")).json<{
			info: { description: string };
			components: { securitySchemes: Record<string, { description: string }> };
		}>();
		expect(doc.components.securitySchemes.adminToken.description).toContain("the token alone without `Bearer ` is accepted too");
		expect(doc.info.description).toContain("the token alone is accepted too");
	});

	it("a stream token is not an admin token", async () => {
		const { token } = await createToken(uniqueOrg());
		await expectError(await api(`/admin/v1/tokens?org=x`, { headers: { Authorization: `Bearer ${token}` } }), 403, "not_authorized");
	});

	it("creates (201, secret shown once), lists without secrets, revokes", async () => {
		const org = uniqueOrg();
		const created = await api("/admin/v1/tokens", json("POST", { org, name: "exporter", scopes: ["read"] }, ADMIN));
		expect(created.status).toBe(201);
		const token = await created.json<{ id: string; token: string; org: string; scopes: string[]; revoked_at: null }>();
		expect(token).toMatchObject({ org, name: "exporter", scopes: ["read"], revoked_at: null });
		expect(token.token).toMatch(/^mlt_[A-Za-z0-9_-]{43}$/);

		const listed = await (await api(`/admin/v1/tokens?org=${org}`, { headers: ADMIN })).json<{ tokens: Record<string, unknown>[] }>();
		expect(listed.tokens).toHaveLength(1);
		expect(listed.tokens[0]).toEqual({
			id: token.id,
			org,
			name: "exporter",
			scopes: ["read"],
			created_at: expect.any(String),
			revoked_at: null,
		});
		expect(JSON.stringify(listed)).not.toContain(token.token);

		expect((await api(`/admin/v1/tokens/${token.id}`, { method: "DELETE", headers: ADMIN })).status).toBe(200);
		const after = await (await api(`/admin/v1/tokens?org=${org}`, { headers: ADMIN })).json<{
			tokens: Array<{ revoked_at: string | null }>;
		}>();
		expect(after.tokens[0].revoked_at).not.toBeNull();
		await expectError(await api("/admin/v1/tokens/tok_doesnotexist", { method: "DELETE", headers: ADMIN }), 404, "token_not_found");
	});

	it("rejects bad token requests with the error shape", async () => {
		await expectError(await api("/admin/v1/tokens", json("POST", { org: "bad/org", name: "x" }, ADMIN)), 400, "invalid_format");
		// "." and "..": no URL could address such an org's dimensions (/admin/v1/orgs/./…).
		for (const org of [".", ".."]) {
			const error = await expectError(await api("/admin/v1/tokens", json("POST", { org, name: "x" }, ADMIN)), 400, "invalid_format");
			expect(error.details?.[0]).toMatchObject({ path: "org", message: expect.stringContaining("'.' or '..'") });
		}
		expect((await api("/admin/v1/tokens", json("POST", { org: `.${uniqueOrg()}.`, name: "x" }, ADMIN))).status).toBe(201); // dots elsewhere are fine
		await expectError(await api("/admin/v1/tokens", json("POST", { org: "x", name: "x", scopes: ["admin"] }, ADMIN)), 400, "invalid_value");
		await expectError(await api("/admin/v1/tokens", json("POST", { org: "x", name: "x", extra: 1 }, ADMIN)), 400, "unknown_field");
		// The record is KV metadata (1,024 bytes at most): names that would not fit are refused, not a 500.
		await expectError(await api("/admin/v1/tokens", json("POST", { org: "x", name: "\u0000".repeat(200) }, ADMIN)), 400, "invalid_format");
		await expectError(await api("/admin/v1/tokens", json("POST", { org: "x", name: "😀".repeat(101) }, ADMIN)), 400, "out_of_range");
		const org = uniqueOrg("long-name");
		const widest = { org: org.padEnd(64, "x"), name: "😀".repeat(100), scopes: ["write", "read", "delete_stream"] };
		const created = await api("/admin/v1/tokens", json("POST", widest, ADMIN));
		expect(created.status).toBe(201);
		const { id } = await created.json<{ id: string }>();
		expect((await api(`/admin/v1/tokens/${id}`, { method: "DELETE", headers: ADMIN })).status).toBe(200); // revoked: metadata rewritten
		const listed = await api(`/admin/v1/tokens?org=${widest.org}`, { headers: ADMIN });
		expect((await listed.json<{ tokens: Array<{ name: string; revoked_at: string | null }> }>()).tokens).toEqual([
			expect.objectContaining({ name: widest.name, revoked_at: expect.any(String) }),
		]);
		await expectError(await api("/admin/v1/tokens", json("POST", { name: "x" }, ADMIN)), 400, "missing_field");
		await expectError(await api("/admin/v1/tokens", json("POST", "{", ADMIN)), 400, "invalid_json");
		await expectError(await api("/admin/v1/tokens", { headers: ADMIN }), 400, "missing_field");
	});
});
