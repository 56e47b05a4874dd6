/** Names of models, aliases and datasets (API.md). */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
export const NAME_RULE =
  'must be 1-128 characters: letters, digits, ".", "_" or "-", starting with a letter or digit';
