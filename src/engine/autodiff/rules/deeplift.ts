export const deepliftRules = {};
