/**
 * An object stored in a JSON column. Kept non-recursive on purpose: TypeORM's deep-partial insert
 * types do not terminate on a recursive JSON type.
 */
export type JsonObject = { [key: string]: string | number | boolean | null | object };
