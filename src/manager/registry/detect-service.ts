import { z } from 'zod';
import { HttpError } from '../../http/http-error.js';
import { SERVICE_TYPES, type ServiceType } from '../../http/service-identity.js';
import { getJson, NoAnswer } from './get-json.js';

export const DETECT_TIMEOUT_MS = 5_000;

/** What a URL's /service-info says it is. */
export interface DetectedService {
  serviceType: ServiceType;
  name: string;
  version: string;
  instanceId: string;
  capabilities: string[];
}

const serviceInfo = z.object({
  service_type: z.string(),
  version: z.string(),
  name: z.string(),
  instance_id: z.string(),
  capabilities: z.array(z.string()),
});

/** Why a URL could not be registered; 422 because the request was well formed but the URL is not usable. */
export class DetectionError extends HttpError {
  constructor(
    code: 'service_unreachable' | 'service_http_error' | 'service_not_json' | 'not_a_hopmap_service',
    message: string,
  ) {
    super(422, code, message);
  }
}

/** GETs `<base>/service-info` and says what the service is, or throws a DetectionError naming the URL and why. */
export async function detectService(
  base: string,
  opts: { timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<DetectedService> {
  const url = `${base}/service-info`;
  let answer;
  try {
    answer = await getJson(url, { timeoutMs: opts.timeoutMs ?? DETECT_TIMEOUT_MS, signal: opts.signal });
  } catch (err) {
    if (err instanceof NoAnswer || (err as Error).name === 'AbortError')
      throw new DetectionError('service_unreachable', `${url} is unreachable: ${(err as Error).message}`);
    throw err;
  }
  if (answer.status !== 200)
    throw new DetectionError(
      'service_http_error',
      `${url} answered HTTP ${answer.status}, not a service description${snippet(answer.text)}`,
    );
  if (answer.json === undefined)
    throw new DetectionError('service_not_json', `${url} answered something that is not JSON${snippet(answer.text)}`);
  const info = serviceInfo.safeParse(answer.json);
  if (!info.success) {
    const fields = info.error.issues.map((i) => i.path.join('.') || '(root)').join(', ');
    throw new DetectionError(
      'not_a_hopmap_service',
      `${url} is not a hopmap service: its JSON lacks or mistypes ${fields}`,
    );
  }
  const type = info.data.service_type;
  if (!(SERVICE_TYPES as readonly string[]).includes(type)) {
    throw new DetectionError(
      'not_a_hopmap_service',
      `${url} is not a hopmap service: service_type ${JSON.stringify(type.slice(0, 40))} is none of ${SERVICE_TYPES.join(', ')}`,
    );
  }
  return {
    serviceType: type as ServiceType,
    name: info.data.name,
    version: info.data.version,
    instanceId: info.data.instance_id,
    capabilities: info.data.capabilities,
  };
}

function snippet(text: string): string {
  const line = text.trim().split('\n', 1)[0]?.slice(0, 120);
  return line ? `: ${JSON.stringify(line)}` : '';
}
