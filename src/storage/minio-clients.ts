import * as Minio from 'minio';

export interface S3Endpoint {
  endpoint: string;
  accessKey: string;
  secretKey: string;
  region?: string;
}

/**
 * The two minio clients every S3 user here needs, for one endpoint: `client` for requests that may
 * be retried, and `streaming` for uploads from a stream, which cannot be sent twice, so it never
 * retries by itself and does not hash the body up front (which would buffer it). Path-style
 * addressing works with MinIO, Ceph RGW and AWS alike.
 */
export function minioClients(options: S3Endpoint): { client: Minio.Client; streaming: Minio.Client } {
  const url = new URL(options.endpoint);
  const clientOptions: Minio.ClientOptions = {
    endPoint: url.hostname,
    port: url.port ? Number(url.port) : undefined,
    useSSL: url.protocol === 'https:',
    accessKey: options.accessKey,
    secretKey: options.secretKey,
    region: options.region,
    pathStyle: true,
  };
  const streaming = new Minio.Client({ ...clientOptions, retryOptions: { disableRetry: true } });
  (streaming as unknown as { enableSHA256: boolean }).enableSHA256 = false;
  return { client: new Minio.Client(clientOptions), streaming };
}
