// Runs a script's main(argv) → exit code when the module is the process entry point (not when a
// test imports it); an uncaught error prints and exits 1.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

export function runIfEntryPoint(moduleUrl: string, main: (argv: string[]) => Promise<number>): void {
  const entry = process.argv[1];
  if (entry === undefined || moduleUrl !== pathToFileURL(resolve(entry)).href) return;
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
