/**
 * Every identifier that reaches a file path, the YAML config or a PromQL selector is checked
 * against one of these patterns. They are deliberately narrow: no whitespace, no quotes, no
 * path separators, so a value can never escape its place.
 */
export const SESSION_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$';
export const JOB_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$';
export const JOB_NAME_PATTERN = '^[A-Za-z_][A-Za-z0-9_.:-]{0,127}$';
export const TARGET_TYPE_PATTERN = '^[A-Za-z][A-Za-z0-9_-]{0,63}$';
export const LABEL_NAME_PATTERN = '^[A-Za-z_][A-Za-z0-9_]{0,127}$';
export const METRICS_PATH_PATTERN = "^/[A-Za-z0-9._~!$&'()*+,;=:@%/-]{0,1023}$";
/** host:port with a DNS name, an IPv4 address or a bracketed IPv6 address. */
export const HOST_PORT_PATTERN =
  '^(?:\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}))*):[0-9]{1,5}$';

const sessionIdRe = new RegExp(SESSION_ID_PATTERN);
const hostPortRe = new RegExp(HOST_PORT_PATTERN);

export function isValidSessionId(id: string): boolean {
  return sessionIdRe.test(id);
}

/** host:port with a port in 1..65535. */
export function isValidHostPort(text: string): boolean {
  if (!hostPortRe.test(text)) return false;
  const port = Number(text.slice(text.lastIndexOf(':') + 1));
  return port >= 1 && port <= 65535;
}

/** Labels benchmon sets itself on every target; a user label may not override them. */
export const RESERVED_LABELS = new Set(['session', 'target_type', 'role', 'job_id', 'job', 'instance', 'target_id', 'slurm_job_id', 'node']);

/** A label value must not carry control characters (they would survive JSON but confuse every reader). */
export function isValidLabelValue(value: string): boolean {
  // eslint-disable-next-line no-control-regex
  return value.length <= 1024 && !/[\u0000-\u001f\u007f]/.test(value);
}
