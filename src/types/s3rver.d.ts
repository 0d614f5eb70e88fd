// The part of s3rver 3.7.1 (untyped JavaScript) that src/attachments/embedded-s3.ts uses.
declare module 's3rver' {
  import type { RequestListener } from 'node:http';

  interface S3rverOptions {
    directory?: string;
    silent?: boolean;
    vhostBuckets?: boolean;
    resetOnClose?: boolean;
    configureBuckets?: { name: string; configs?: (string | Buffer)[] }[];
  }

  export default class S3rver {
    constructor(options?: S3rverOptions);
    /** Creates the buckets of `configureBuckets` in the store directory. */
    configureBuckets(): Promise<void>;
    /** The Koa request handler, to mount on a server we own. */
    callback(): RequestListener;
    /** s3rver's winston logger; closed when the server stops. */
    logger: { close(): void };
  }
}
