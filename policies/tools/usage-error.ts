/** A command line the CLI cannot run as given: answered with the usage and exit code 64. */
export class UsageError extends Error {}
