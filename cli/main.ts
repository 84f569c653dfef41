// `meterline`: send telemetry and cost files to a Meterline deployment, read unit costs, and manage its stream tokens.
import { type ParseArgsConfig, parseArgs } from "node:util";
import { version } from "../package.json";
import { COSTS_OPTIONS, costs } from "./costs";
import { type Io, UsageError } from "./options";
import { SEND_OPTIONS, send } from "./send";
import { TOKENS_OPTIONS, tokens } from "./tokens";
import { UNIT_COST_OPTIONS, unitCost } from "./unit-cost";

export const HELP = `meterline ${version}: send unit-cost telemetry and costs to Meterline, read unit costs, manage tokens

Usage:
  meterline send <file> --stream <name> [--op sum|replace|delete] [options]
  meterline costs import <file.csv> --connection <id> [options]
  meterline unit-cost <metric> [--start YYYY-MM-DD] [--end YYYY-MM-DD] [options]
  meterline tokens create --org <org> --name <name> [--scopes write,read,delete_stream,write_costs]
  meterline tokens list --org <org>
  meterline tokens revoke <token-id>

send: reads a CSV, JSON ({"records": [...]} or an array) or JSONL file, checks every record
locally with the service's own rules (errors name the file line), then sends it in requests
under the service's limits, each with its own Idempotency-Key, retrying 429, 503 and network
errors with exponential backoff (honouring Retry-After). Until the service has answered once,
network errors are retried for about 8 s only: a URL where nothing answers fails fast. Exits 1
if anything was not accepted.
  --stream <name>            stream to write to (required)
  --op sum|replace|delete    default sum
  --format csv|json|jsonl    default: from the file extension
  --timestamp-column <col>   CSV column of the timestamp (default "timestamp")
  --value-column <col>       CSV column of the value (default "value"; not read for delete)
  --dimension <key>=<col>    a dimension from a CSV column, e.g. --dimension "custom:Client=client"
                             (repeatable); without any, every other column is a dimension named
                             by its header (e.g. a column "custom:Client" or "Region")
  --ignore-extra-columns     with --dimension: skip CSV columns that are not mapped
  --batch-size <n>           records per request (default and maximum 10000)
  --max-bytes <n>            bytes per request body (default 5000000)
  --run-id <id>              mixed into the idempotency keys; by default they derive from each
                             request's content, so re-running the same file within 24 hours (after
                             a crash, say) applies nothing twice. Pass a new id to send it again.
  --max-retries <n>          retries per request (default 8)
  --max-errors <n>           problems listed when validation fails (default 20)
  --dry-run                  validate and plan the requests, send nothing

costs import: reads a FOCUS 1.0-1.3 cost-and-usage CSV (AWS, Azure, Google Cloud, Oracle exports)
and sends it as CloudZero Common Bill Format (CBF) rows to the AnyCost Stream billing drops of a
connection (token scope write_costs), checking every row first and sending like send does. A
charge spanning several days is spread over them, exactly. One drop per month: with replace_drop
a month too large for one request is a replace_drop followed by sums. See docs/cli.md.
  --connection <id>          the connection (required); a file with several currencies needs
                             one per currency: --connection USD=aws-usd --connection EUR=aws-eur
  --operation <op>           replace_drop (default; replaces each month in the file),
                             replace_hourly (replaces the hours in the file) or sum
  --format focus|cbf         default focus; cbf: a CSV with CBF column names
  --batch-size, --max-bytes, --run-id, --max-retries, --max-errors, --dry-run   as for send

unit-cost: the cost per unit of a metric (token scope read), as a table or with --csv as CSV.
  --start, --end <date>      YYYY-MM-DD, inclusive
  --granularity day|month    --cost-type cost|discounted_cost|amortized_cost|
                             discounted_amortized_cost|on_demand_cost
  --group-by <key>           an associated_cost key, e.g. custom:Client
  --dim <dim>=<values>       cost filter, repeatable: keep only cost whose dimension has one of
                             the values, e.g. --dim Service=Compute,Storage
  --exclude <dim>=<values>   cost filter, repeatable: leave out cost whose dimension has one of
                             the values, e.g. --exclude LineItemType=Tax,Credit. Dimensions are
                             cost dimensions (LineItemType, Service, tag:<key>, custom:<name>,
                             ...); values are separated by commas, a comma in a value is
                             written \\, and a backslash \\\\. Units are never filtered.
  --csv                      CSV instead of a table

tokens: the admin API, with the deployment's ADMIN_TOKEN.

Common options:
  --url <url>                service base URL       (env METERLINE_URL, default http://localhost:8787)
  --token <token>            stream token for send, costs, unit-cost (env METERLINE_TOKEN)
  --admin-token <token>      admin token for tokens (env METERLINE_ADMIN_TOKEN)
  -h, --help                 this help
  -v, --version              the CLI's version
`;

const COMMON_OPTIONS = {
	url: { type: "string" },
	token: { type: "string" },
	"admin-token": { type: "string" },
	help: { type: "boolean", short: "h" },
	version: { type: "boolean", short: "v" },
} satisfies ParseArgsConfig["options"];

/** Runs the CLI; resolves to the process exit code. */
export async function main(argv: string[], io: Io = processIo()): Promise<number> {
	const [command, ...rest] = argv;
	try {
		if (command === undefined || command === "help" || command === "--help" || command === "-h") {
			io.out(HELP);
			return command === undefined ? 2 : 0;
		}
		if (command === "--version" || command === "-v") {
			io.out(`${version}\n`);
			return 0;
		}
		if (command === "send") {
			const { values, positionals } = parse(rest, { ...COMMON_OPTIONS, ...SEND_OPTIONS });
			if (values.help) return printHelp(io);
			return await send(positionals, values, baseUrl(values.url, io), io);
		}
		if (command === "costs") {
			const { values, positionals } = parse(rest, { ...COMMON_OPTIONS, ...COSTS_OPTIONS });
			if (values.help) return printHelp(io);
			return await costs(positionals, values, baseUrl(values.url, io), io);
		}
		if (command === "unit-cost") {
			const { values, positionals } = parse(rest, { ...COMMON_OPTIONS, ...UNIT_COST_OPTIONS });
			if (values.help) return printHelp(io);
			return await unitCost(positionals, values, baseUrl(values.url, io), io);
		}
		if (command === "tokens") {
			const { values, positionals } = parse(rest, { ...COMMON_OPTIONS, ...TOKENS_OPTIONS });
			if (values.help) return printHelp(io);
			return await tokens(positionals, values, baseUrl(values.url, io), io);
		}
		throw new UsageError(`unknown command '${command}'`);
	} catch (err) {
		if (err instanceof UsageError) {
			io.err(`meterline: ${err.message}\nRun 'meterline --help' for usage.\n`);
			return 2;
		}
		throw err;
	}
}

/** Prints the usage; its exit status is 0. */
function printHelp(io: Io): number {
	io.out(HELP);
	return 0;
}

function parse<O extends NonNullable<ParseArgsConfig["options"]>>(args: string[], options: O) {
	try {
		return parseArgs({ args, options, allowPositionals: true, strict: true });
	} catch (err) {
		throw new UsageError((err as Error).message);
	}
}

function baseUrl(flag: string | undefined, io: Io): string {
	const raw = flag ?? io.env.METERLINE_URL ?? "http://localhost:8787";
	let url: URL;
	try {
		url = new URL(raw);
	} catch {
		throw new UsageError(`--url '${raw}' is not a URL`);
	}
	if (url.protocol !== "http:" && url.protocol !== "https:") throw new UsageError(`--url must be http or https, not ${url.protocol}`);
	return url.href.replace(/\/+$/, "");
}

function processIo(): Io {
	return {
		out: (text) => process.stdout.write(text),
		err: (text) => process.stderr.write(text),
		progress: process.stderr,
		env: process.env,
	};
}
