/** Alter targets Node 22.12+ (24 LTS recommended); older versions start with a warning. */
export function checkNodeVersion(version: string): string | undefined {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  if (major > 22 || (major === 22 && minor >= 12)) return undefined;
  return `Node ${version} is not supported (Alter needs Node 22.12 or newer, 24 LTS recommended); running anyway`;
}
