import type { FieldError } from './errors';

/** How many problems a 400 lists: enough to show the pattern, cheap to build for a huge bad input. */
export const MAX_LISTED_ERRORS = 20;

/**
 * Collects a request's problems by field, listing the first MAX_LISTED_ERRORS and counting all
 * that are reported, so one answer names every kind of mistake without flooding the response.
 */
export class FieldErrorList {
  readonly listed: FieldError[] = [];
  private total = 0;

  add(field: string, message: string): void {
    this.total++;
    if (this.listed.length < MAX_LISTED_ERRORS) this.listed.push({ field, message });
  }

  /** Counts problems found beyond the cap without locating them. */
  countUnlisted(count: number): void {
    this.total += count;
  }

  /** How many problems were reported, listed or not. */
  get count(): number {
    return this.total;
  }

  /** True once the list is full: a caller may stop looking, the answer would not change. */
  get full(): boolean {
    return this.listed.length >= MAX_LISTED_ERRORS;
  }
}
