import { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { countRefusal } from "./auth/rate-limit";
import type { AppEnv } from "./http/app-env";
import { edgeHeaders, notFoundOrMethodNotAllowed } from "./http/edge";
import { errorResponse } from "./http/errors";
import { requestId } from "./http/request-id";
import { requestLog } from "./http/request-log";
import { ApiError } from "./lib/api-error";
import { registerTokensCreate } from "./routes/admin/create-token";
import { registerDimensionList } from "./routes/admin/list-dimensions";
import { registerTokensList } from "./routes/admin/list-tokens";
import { registerDimensionPut } from "./routes/admin/put-dimension";
import { registerTokensRevoke } from "./routes/admin/revoke-token";
import { registerAllocationStreamDelete } from "./routes/allocation/delete-stream";
import { registerAllocationList } from "./routes/allocation/list-streams";
import { registerLegacyTelemetry } from "./routes/allocation/post-telemetry";
import { registerAllocationIngestLog } from "./routes/allocation/read-ingest-log";
import { registerAllocationRead } from "./routes/allocation/read-records";
import { registerAllocationWrite } from "./routes/allocation/write-records";
import { registerCloudthreadIngest } from "./routes/cloudthread/ingest";
import { registerCustomMetricsList } from "./routes/cloudthread/list-metrics";
import { registerCustomMetricRead } from "./routes/cloudthread/read-metric";
import { registerStreamDelete } from "./routes/cloudzero/delete-stream";
import { registerMetricList } from "./routes/cloudzero/list-streams";
import { registerIngestLog } from "./routes/cloudzero/read-ingest-log";
import { registerMetricRead } from "./routes/cloudzero/read-records";
import { registerMetricWrite } from "./routes/cloudzero/write-records";
import { registerBillingDrop } from "./routes/costs/billing-drop";
import { registerCostRead } from "./routes/costs/read-costs";
import { registerUnitCost } from "./routes/costs/unit-cost";
import { registerDocsPage } from "./routes/docs/docs-page";
import { registerOpenApi } from "./routes/docs/openapi";
import { registerServiceIndex } from "./routes/docs/service-index";
import { issuesToDetails, validationError } from "./schemas/validation";
import { isTokenIdRevoked } from "./storage/revocations";

// Storage failures a client should retry (CloudZero answers 503 "exponential backoff").
const TRANSIENT = /SQLITE_BUSY|overloaded|Network connection lost|reset because|D1_RESET|timed out|try again/i;

const STORAGE_UNAVAILABLE = () =>
	new ApiError(503, "storage_unavailable", "Storage is temporarily unavailable; nothing was applied. Retry with exponential backoff.", [], {
		"Retry-After": "1",
	});

/**
 * A write's token is admitted without a D1 query (its commit checks revocation), and KV may serve
 * a revoked token for a minute; a write refused before it reaches its commit (invalid body, too
 * large, rate limited, ...) asks D1 first, so a revoked token gets its 403 on every path.
 */
async function unlessTokenRevoked(c: Context<AppEnv>, err: ApiError): Promise<ApiError> {
	if (!c.get("revocationUnchecked") || err.status === 403) return err;
	try {
		return (await isTokenIdRevoked(c.env.DB, c.get("token").id)) ? c.get("refuseToken")() : err;
	} catch {
		return STORAGE_UNAVAILABLE(); // the token might be revoked: say nothing more than that
	}
}

export function createApp() {
	const app = new OpenAPIHono<AppEnv>({
		// Path and query parameters fail with the same error shape as bodies.
		defaultHook: (result, c) => {
			if (result.success) return;
			const input = result.target === "query" ? c.req.query() : result.target === "param" ? c.req.param() : undefined;
			throw validationError(issuesToDetails(result.error.issues, input));
		},
	});

	app.use(requestId);
	app.use(requestLog);
	app.use(edgeHeaders);

	registerMetricList(app);
	registerMetricRead(app);
	registerMetricWrite(app);
	registerIngestLog(app);
	registerStreamDelete(app);
	registerAllocationList(app);
	registerAllocationRead(app);
	registerAllocationWrite(app);
	registerAllocationIngestLog(app);
	registerAllocationStreamDelete(app);
	registerLegacyTelemetry(app);
	registerCloudthreadIngest(app);
	registerCustomMetricsList(app);
	registerCustomMetricRead(app);
	registerBillingDrop(app);
	registerCostRead(app);
	registerUnitCost(app);
	registerTokensCreate(app);
	registerTokensList(app);
	registerTokensRevoke(app);
	registerDimensionPut(app);
	registerDimensionList(app);
	registerDocsPage(app);
	registerOpenApi(app);
	registerServiceIndex(app);

	app.notFound(notFoundOrMethodNotAllowed(app));

	app.onError(async (err, c) => {
		// A token found revoked only now (at a write's commit, or by unlessTokenRevoked) is counted as
		// a failed authentication of the client's address, as an unknown token is when admitted.
		if (err instanceof ApiError) return errorResponse(c, await countRefusal(c, await unlessTokenRevoked(c, err)));
		if (err instanceof HTTPException) return errorResponse(c, new ApiError(err.status as 400, "bad_request", err.message));
		const transient = TRANSIENT.test(String(err)) || (err as { retryable?: boolean }).retryable === true;
		console.error(JSON.stringify({ level: "error", request_id: c.get("requestId"), error: String(err), stack: (err as Error).stack }));
		return errorResponse(
			c,
			transient ? STORAGE_UNAVAILABLE() : new ApiError(500, "internal_error", "Internal error; the request may not have been applied"),
		);
	});

	return app;
}
