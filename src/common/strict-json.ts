/** Deeper than any body of ours needs; deeper still would overflow the stack of the validators. */
export const MAX_JSON_DEPTH = 64;

export type JsonProblem = { duplicateKey: string } | { tooDeep: true } | null;

/**
 * What makes a valid JSON text unacceptable here: a key twice in one object, or nesting deeper
 * than MAX_JSON_DEPTH. The first key that appears twice in one object of a JSON text, or null. JSON.parse keeps the
 * last of duplicates silently, so a body could mean one thing to a proxy or validator that reads
 * the first and another to us; we refuse it instead. One pass over text already known to be
 * valid JSON (call it after JSON.parse): strings are skipped whole, keys are collected per object.
 */
export function checkJsonText(text: string): JsonProblem {
  const QUOTE = 34;
  const BACKSLASH = 92;
  const COLON = 58;
  const OPEN_OBJECT = 123;
  const CLOSE_OBJECT = 125;
  const OPEN_ARRAY = 91;
  const CLOSE_ARRAY = 93;
  // One entry per open container: the keys seen so far for objects, null for arrays.
  const stack: (Set<string> | null)[] = [];
  const length = text.length;
  let i = 0;
  while (i < length) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const start = i + 1;
      let escaped = false;
      i = start;
      for (;;) {
        const d = text.charCodeAt(i);
        if (d === BACKSLASH) {
          escaped = true;
          i += 2;
        } else if (d === QUOTE) break;
        else i++;
      }
      const end = i;
      i++;
      const keys = stack[stack.length - 1];
      if (!keys) continue;
      // A string directly inside an object is a key when a colon follows it.
      let j = i;
      while (j < length && text.charCodeAt(j) <= 32) j++;
      if (text.charCodeAt(j) !== COLON) continue;
      const raw = text.slice(start, end);
      const key = escaped ? (JSON.parse(`"${raw}"`) as string) : raw;
      if (keys.has(key)) return { duplicateKey: key };
      keys.add(key);
      i = j + 1;
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (stack.length === MAX_JSON_DEPTH) return { tooDeep: true };
      stack.push(c === OPEN_OBJECT ? new Set() : null);
      i++;
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      stack.pop();
      i++;
    } else {
      i++;
    }
  }
  return null;
}
