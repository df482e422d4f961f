/**
 * The user's home folder, as os.homedir() answers it: on Unix that is $HOME when it is set and not empty,
 * so node:os (and its load at start-up) is needed only without it; on Windows always os.homedir().
 */
export function homeFolder(): string {
  const home = process.env.HOME;
  if (process.platform !== 'win32' && home !== undefined && home !== '') return home;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('node:os') as typeof import('node:os')).homedir();
}
