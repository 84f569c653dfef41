// A small JSON Schema validator for the subset the app's OpenAPI 3.1 document uses (ajv compiles
// its validators with `new Function`, which workerd does not allow). Every mismatch is reported
// with the JSON pointer of the offending value and the keyword that failed.
//
// Supported: $ref (local, "#/..."), type (one or a list; "integer"), nullable (OpenAPI 3.0 style),
// enum, const, properties, required, additionalProperties (boolean or schema), items, minItems,
// maxItems, minProperties, maxProperties, propertyNames, anyOf, oneOf, allOf, not, minimum, maximum,
// exclusiveMinimum, exclusiveMaximum (3.1 numbers), multipleOf, minLength, maxLength (in code
// points, as JSON Schema counts), pattern (unicode regular expression). Annotations (description,
// example, default, format, ...) are ignored. A keyword it does not know makes validate() throw,
// so the validator cannot silently pass a schema it does not understand.

export type Schema = { [keyword: string]: unknown } | boolean;

export interface Mismatch {
	/** JSON pointer of the value, e.g. /records/0/value ("" is the whole value). */
	pointer: string;
	/** The keyword that failed, e.g. "required" or "type". */
	keyword: string;
	message: string;
}

const ANNOTATIONS = new Set([
	"description",
	"example",
	"examples",
	"default",
	"title",
	"format",
	"deprecated",
	"readOnly",
	"writeOnly",
	"externalDocs",
	"xml",
	"discriminator",
	"$comment",
	"contentMediaType",
	"contentEncoding",
]);
const KNOWN = new Set([
	"$ref",
	"type",
	"nullable",
	"enum",
	"const",
	"properties",
	"required",
	"additionalProperties",
	"items",
	"minItems",
	"maxItems",
	"minProperties",
	"maxProperties",
	"propertyNames",
	"anyOf",
	"oneOf",
	"allOf",
	"not",
	"minimum",
	"maximum",
	"exclusiveMinimum",
	"exclusiveMaximum",
	"multipleOf",
	"minLength",
	"maxLength",
	"pattern",
	"uniqueItems",
]);

export function escapePointer(key: string | number): string {
	return String(key).replace(/~/g, "~0").replace(/\//g, "~1");
}

/** The schema a local $ref ("#/components/schemas/X") points at. */
export function resolveRef(root: unknown, ref: string): Schema {
	if (!ref.startsWith("#")) throw new Error(`only local $refs are supported: ${ref}`);
	let node: unknown = root;
	for (const part of ref.slice(1).split("/").slice(1)) {
		const key = decodeURIComponent(part).replace(/~1/g, "/").replace(/~0/g, "~");
		if (node === null || typeof node !== "object" || !(key in node)) throw new Error(`unresolvable $ref ${ref}`);
		node = (node as Record<string, unknown>)[key];
	}
	return node as Schema;
}

/** Follows $refs until a schema without one (a $ref's siblings are ignored, as in OpenAPI 3.0). */
export function deref(root: unknown, schema: Schema): Schema {
	let s = schema;
	for (let hops = 0; typeof s === "object" && typeof s.$ref === "string"; hops++) {
		if (hops > 50) throw new Error(`$ref cycle at ${s.$ref}`);
		s = resolveRef(root, s.$ref);
	}
	return s;
}

/** The JSON type of a value, "integer" for whole numbers (which are numbers too). */
function jsonType(value: unknown): string {
	if (value === null) return "null";
	if (Array.isArray(value)) return "array";
	if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
	return typeof value;
}

function typeMatches(type: string, value: unknown): boolean {
	const actual = jsonType(value);
	if (type === "number") return actual === "number" || actual === "integer";
	if (type === "integer") return actual === "integer";
	return actual === type;
}

/** JSON equality (key order does not matter). */
export function jsonEqual(a: unknown, b: unknown): boolean {
	if (a === b) return true;
	if (typeof a !== typeof b || a === null || b === null || typeof a !== "object") return false;
	if (Array.isArray(a) !== Array.isArray(b)) return false;
	if (Array.isArray(a)) return a.length === (b as unknown[]).length && a.every((x, i) => jsonEqual(x, (b as unknown[])[i]));
	const ka = Object.keys(a);
	const kb = Object.keys(b as object);
	return (
		ka.length === kb.length &&
		ka.every((k) => Object.hasOwn(b as object, k) && jsonEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
	);
}

/** String length as JSON Schema counts it: in Unicode code points, not UTF-16 units. */
export function codePoints(s: string): number {
	let n = 0;
	for (const _ of s) n++;
	return n;
}

const patterns = new Map<string, RegExp>();
function regex(pattern: string): RegExp {
	let re = patterns.get(pattern);
	if (!re) {
		re = new RegExp(pattern, "u");
		patterns.set(pattern, re);
	}
	return re;
}

export interface ValidateOptions {
	/**
	 * Treat an object schema with `properties` and no `additionalProperties` as closed: a property
	 * it does not list is reported ("undocumented"). For responses: a field the document does not
	 * describe is a documentation gap even where JSON Schema would allow it.
	 */
	closedObjects?: boolean;
}

/** Every mismatch of value against schema (empty: valid). root resolves $refs. */
export function validate(root: unknown, schema: Schema, value: unknown, options: ValidateOptions = {}): Mismatch[] {
	const out: Mismatch[] = [];
	check(root, schema, value, "", out, options);
	return out;
}

export function isValid(root: unknown, schema: Schema, value: unknown): boolean {
	return validate(root, schema, value).length === 0;
}

function check(root: unknown, schema: Schema, value: unknown, pointer: string, out: Mismatch[], options: ValidateOptions): void {
	if (schema === true) return;
	if (schema === false) {
		out.push({ pointer, keyword: "false", message: "no value is allowed here" });
		return;
	}
	if (typeof schema.$ref === "string") {
		check(root, resolveRef(root, schema.$ref), value, pointer, out, options);
		return;
	}
	for (const keyword of Object.keys(schema)) {
		if (!KNOWN.has(keyword) && !ANNOTATIONS.has(keyword) && !keyword.startsWith("x-"))
			throw new Error(`validator does not support the keyword '${keyword}' (at ${pointer || "/"})`);
	}
	const fail = (keyword: string, message: string, at = pointer) => out.push({ pointer: at, keyword, message });
	const inAllOf = Array.isArray(schema.allOf);

	// Numbers that JSON cannot carry (1e400 parses to Infinity) are not JSON numbers at all.
	if (typeof value === "number" && !Number.isFinite(value)) {
		fail("type", `${value} is not a JSON number`);
		return;
	}
	if (schema.type !== undefined) {
		const types = Array.isArray(schema.type) ? (schema.type as string[]) : [schema.type as string];
		if (schema.nullable === true) types.push("null");
		if (!types.some((t) => typeMatches(t, value))) {
			fail("type", `expected ${types.join(" or ")}, got ${jsonType(value)}`);
			return;
		}
	} else if (schema.nullable === false && value === null) fail("nullable", "null is not allowed");
	if (Array.isArray(schema.enum) && !schema.enum.some((e) => jsonEqual(e, value))) {
		fail("enum", `${JSON.stringify(value)?.slice(0, 80)} is not one of ${JSON.stringify(schema.enum).slice(0, 200)}`);
	}
	if ("const" in schema && !jsonEqual(schema.const, value)) fail("const", `expected ${JSON.stringify(schema.const)}`);

	if (typeof value === "number") {
		if (typeof schema.minimum === "number" && value < schema.minimum) fail("minimum", `${value} < ${schema.minimum}`);
		if (typeof schema.maximum === "number" && value > schema.maximum) fail("maximum", `${value} > ${schema.maximum}`);
		if (typeof schema.exclusiveMinimum === "number" && value <= schema.exclusiveMinimum)
			fail("exclusiveMinimum", `${value} <= ${schema.exclusiveMinimum}`);
		if (typeof schema.exclusiveMaximum === "number" && value >= schema.exclusiveMaximum)
			fail("exclusiveMaximum", `${value} >= ${schema.exclusiveMaximum}`);
		// An integer divisor is checked exactly (value / 3600 rounds 5e-324 to 0, an integer).
		const m = schema.multipleOf;
		if (typeof m === "number" && !(Number.isInteger(m) ? value % m === 0 : Number.isInteger(value / m)))
			fail("multipleOf", `${value} is not a multiple of ${m}`);
	}
	if (typeof value === "string") {
		const length = codePoints(value);
		if (typeof schema.minLength === "number" && length < schema.minLength) fail("minLength", `${length} code points < ${schema.minLength}`);
		if (typeof schema.maxLength === "number" && length > schema.maxLength) fail("maxLength", `${length} code points > ${schema.maxLength}`);
		if (typeof schema.pattern === "string" && !regex(schema.pattern).test(value))
			fail("pattern", `${JSON.stringify(value.slice(0, 80))} does not match ${schema.pattern}`);
	}
	if (Array.isArray(value)) {
		if (typeof schema.minItems === "number" && value.length < schema.minItems)
			fail("minItems", `${value.length} items < ${schema.minItems}`);
		if (typeof schema.maxItems === "number" && value.length > schema.maxItems)
			fail("maxItems", `${value.length} items > ${schema.maxItems}`);
		if (schema.uniqueItems === true && value.some((x, i) => value.findIndex((y) => jsonEqual(x, y)) !== i))
			fail("uniqueItems", "items are not unique");
		if (schema.items !== undefined)
			for (const [i, item] of value.entries()) check(root, schema.items as Schema, item, `${pointer}/${i}`, out, options);
	}
	if (value !== null && typeof value === "object" && !Array.isArray(value)) {
		const obj = value as Record<string, unknown>;
		const keys = Object.keys(obj);
		if (typeof schema.minProperties === "number" && keys.length < schema.minProperties)
			fail("minProperties", `${keys.length} properties < ${schema.minProperties}`);
		if (typeof schema.maxProperties === "number" && keys.length > schema.maxProperties)
			fail("maxProperties", `${keys.length} properties > ${schema.maxProperties}`);
		for (const name of (schema.required as string[] | undefined) ?? []) {
			if (!Object.hasOwn(obj, name)) fail("required", `missing required property '${name}'`);
		}
		const properties = (schema.properties ?? {}) as Record<string, Schema>;
		for (const key of keys) {
			const at = `${pointer}/${escapePointer(key)}`;
			// A name is checked as a string value of its own; its mismatches point at the property.
			if (schema.propertyNames !== undefined) {
				for (const m of validate(root, schema.propertyNames as Schema, key, options))
					fail(`propertyNames/${m.keyword}`, `property name ${JSON.stringify(key.slice(0, 40))}: ${m.message}`, at);
			}
			if (Object.hasOwn(properties, key)) check(root, properties[key], obj[key], at, out, options);
			else if (schema.additionalProperties === false) fail("additionalProperties", `unknown property '${key}'`, at);
			else if (schema.additionalProperties !== undefined && schema.additionalProperties !== true)
				check(root, schema.additionalProperties as Schema, obj[key], at, out, options);
			else if (options.closedObjects && schema.additionalProperties === undefined && schema.properties !== undefined && !inAllOf) {
				fail("undocumented", `property '${key}' is not in the document`, at);
			}
		}
	}

	if (Array.isArray(schema.allOf)) {
		// Each part sees only its own properties: closedness is judged on the union of them.
		const known = allOfProperties(root, schema);
		for (const sub of schema.allOf as Schema[]) check(root, sub, value, pointer, out, { ...options, closedObjects: false });
		if (options.closedObjects && value !== null && typeof value === "object" && !Array.isArray(value) && known) {
			for (const key of Object.keys(value))
				if (!known.has(key)) fail("undocumented", `property '${key}' is not in the document`, `${pointer}/${escapePointer(key)}`);
		}
	}
	if (Array.isArray(schema.anyOf)) {
		const branches = (schema.anyOf as Schema[]).map((sub) =>
			validate(root, sub, value, options).map((m) => ({ ...m, pointer: pointer + m.pointer })),
		);
		if (!branches.some((b) => b.length === 0))
			fail(
				"anyOf",
				`matches none of ${branches.length} alternatives (${branches
					.map((b) => b[0]?.message)
					.join("; ")
					.slice(0, 300)})`,
			);
	}
	if (Array.isArray(schema.oneOf)) {
		const matching = (schema.oneOf as Schema[]).filter((sub) => validate(root, sub, value, options).length === 0).length;
		if (matching !== 1) fail("oneOf", `matches ${matching} of ${(schema.oneOf as Schema[]).length} alternatives, not exactly one`);
	}
	if (schema.not !== undefined && isValid(root, schema.not as Schema, value)) fail("not", "matches a schema it must not match");
}

/** The property names of an allOf's object parts, or undefined if one of them is open. */
function allOfProperties(root: unknown, schema: { [keyword: string]: unknown }): Set<string> | undefined {
	const names = new Set<string>();
	for (const part of schema.allOf as Schema[]) {
		const s = deref(root, part);
		if (typeof s === "boolean" || s.additionalProperties !== undefined) return undefined;
		if (Array.isArray(s.allOf)) {
			const inner = allOfProperties(root, s);
			if (!inner) return undefined;
			for (const n of inner) names.add(n);
		}
		for (const n of Object.keys((s.properties as object) ?? {})) names.add(n);
	}
	return names;
}

/**
 * The closed set of strings a schema allows, when it has one: enum, const, or anyOf/oneOf of
 * such (through $refs). undefined when any string is allowed.
 */
export function closedSet(root: unknown, schema: Schema | undefined): Set<string> | undefined {
	if (schema === undefined || typeof schema === "boolean") return undefined;
	const s = deref(root, schema);
	if (typeof s === "boolean") return undefined;
	if (Array.isArray(s.enum)) return new Set(s.enum.map(String));
	if ("const" in s) return new Set([String(s.const)]);
	const alternatives = (s.anyOf ?? s.oneOf) as Schema[] | undefined;
	if (Array.isArray(alternatives)) {
		const sets = alternatives.map((a) => closedSet(root, a));
		if (sets.every((x) => x !== undefined)) return new Set(sets.flatMap((x) => [...x!]));
	}
	if (Array.isArray(s.allOf)) {
		for (const sub of s.allOf as Schema[]) {
			const set = closedSet(root, sub);
			if (set) return set;
		}
	}
	return undefined;
}
