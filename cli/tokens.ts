// `meterline tokens create|list|revoke`: the admin API.
import type { ParseArgsConfig } from "node:util";
import { type CreatedTokenSchema, CreateTokenBodySchema, type TokenInfoSchema } from "../src/schemas/tokens";
import { issuesToDetails } from "../src/schemas/validation";
import type { z } from "../src/schemas/zod";
import { DEFAULT_RETRY_POLICY, describeError, GaveUpError, type HttpResult, requestWithRetry, Service, USER_AGENT } from "./http";
import { type Io, secret, UsageError } from "./options";

export const TOKENS_OPTIONS = {
	org: { type: "string" },
	name: { type: "string" },
	scopes: { type: "string" },
	json: { type: "boolean" },
} satisfies ParseArgsConfig["options"];

type TokensValues = { org?: string; name?: string; scopes?: string; json?: boolean; "admin-token"?: string };
type TokenInfo = z.infer<typeof TokenInfoSchema>;

export async function tokens(positionals: string[], values: TokensValues, url: string, io: Io): Promise<number> {
	const [action, ...args] = positionals;
	const service = new Service(url);
	const adminToken = () => secret(values["admin-token"], "METERLINE_ADMIN_TOKEN", "--admin-token", io);
	const call = async (method: string, path: string, body?: unknown): Promise<HttpResult | undefined> => {
		const headers: Record<string, string> = { Authorization: `Bearer ${adminToken()}`, "User-Agent": USER_AGENT };
		if (body !== undefined) headers["Content-Type"] = "application/json";
		try {
			// A create that got no answer may have created a token: not retried, so none is made twice.
			const policy = { ...DEFAULT_RETRY_POLICY, maxRetries: 3, retryNetworkErrors: method !== "POST" };
			return await requestWithRetry(
				service,
				path,
				{ method, headers, body: body === undefined ? undefined : JSON.stringify(body) },
				policy,
			);
		} catch (err) {
			if (!(err instanceof GaveUpError)) throw err;
			io.err(`${method} ${path}: ${err.message}\n`);
			return undefined;
		}
	};
	const failed = (result: HttpResult | undefined) => {
		if (result) io.err(`HTTP ${result.status}${describeError(result.json)}\n`);
		return 1;
	};

	if (action === "create") {
		if (args.length > 0) throw new UsageError("tokens create takes no positional arguments");
		const input = { org: values.org, name: values.name, scopes: values.scopes?.split(",").map((s) => s.trim()) };
		const parsed = CreateTokenBodySchema.safeParse(input);
		if (!parsed.success) {
			const problems = issuesToDetails(parsed.error.issues, input).map((d) => `--${d.path ?? "?"}: ${d.message}`);
			throw new UsageError(`tokens create: ${problems.join("; ")}`);
		}
		const result = await call("POST", "/admin/v1/tokens", parsed.data);
		if (result?.status !== 201) return failed(result);
		const created = result.json as z.infer<typeof CreatedTokenSchema>;
		if (values.json) io.out(`${JSON.stringify(created, null, 2)}\n`);
		else {
			io.out(`Created token ${created.id} for org '${created.org}' (${created.name}), scopes ${created.scopes.join(",")}\n`);
			io.out(`Secret (shown only now): ${created.token}\n`);
		}
		return 0;
	}
	if (action === "list") {
		if (!values.org) throw new UsageError("tokens list needs --org");
		const result = await call("GET", `/admin/v1/tokens?org=${encodeURIComponent(values.org)}`);
		if (result?.status !== 200) return failed(result);
		const list = (result.json as { tokens: TokenInfo[] }).tokens;
		if (values.json) io.out(`${JSON.stringify(list, null, 2)}\n`);
		else io.out(tokenTable(list));
		return 0;
	}
	if (action === "revoke") {
		if (args.length !== 1) throw new UsageError("tokens revoke takes one token id (tok_...)");
		const result = await call("DELETE", `/admin/v1/tokens/${encodeURIComponent(args[0])}`);
		if (result?.status !== 200) return failed(result);
		const revoked = result.json as TokenInfo;
		io.out(values.json ? `${JSON.stringify(revoked, null, 2)}\n` : `Revoked ${revoked.id} (${revoked.name}) at ${revoked.revoked_at}\n`);
		return 0;
	}
	throw new UsageError(action === undefined ? "tokens needs create, list or revoke" : `unknown tokens action '${action}'`);
}

function tokenTable(list: TokenInfo[]): string {
	if (list.length === 0) return "No tokens.\n";
	const rows = [
		["ID", "NAME", "SCOPES", "CREATED", "REVOKED"],
		...list.map((t) => [t.id, t.name, t.scopes.join(","), t.created_at, t.revoked_at ?? "-"]),
	];
	const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
	return `${rows
		.map((r) =>
			r
				.map((cell, i) => cell.padEnd(widths[i]))
				.join("  ")
				.trimEnd(),
		)
		.join("\n")}\n`;
}
