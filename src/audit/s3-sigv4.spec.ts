import { describe, expect, it } from 'vitest';
import { canonicalRequest, encodeS3Key, sha256Hex, signV4 } from './s3-sigv4.js';

// The worked examples of "Signature Calculations for the Authorization Header" in the Amazon S3 API reference.
const CREDENTIALS = {
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  region: 'us-east-1',
  service: 's3',
};
const DATE = new Date('2013-05-24T00:00:00Z');
const EMPTY = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

describe('AWS Signature Version 4', () => {
  it("matches AWS's PUT Object example (a `$` in the key)", () => {
    const payloadHash = sha256Hex('Welcome to Amazon S3.');
    expect(payloadHash).toBe('44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072');
    const request = {
      method: 'PUT',
      url: new URL(`https://examplebucket.s3.amazonaws.com/${encodeS3Key('test$file.text')}`),
      headers: {
        Date: 'Fri, 24 May 2013 00:00:00 GMT',
        'x-amz-date': '20130524T000000Z',
        'x-amz-storage-class': 'REDUCED_REDUNDANCY',
        'x-amz-content-sha256': payloadHash,
      },
      payloadHash,
      date: DATE,
    };
    expect(sha256Hex(canonicalRequest(request).canonical)).toBe(
      '9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d',
    );
    expect(signV4(request, CREDENTIALS)).toBe(
      'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,' +
        'SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class,' +
        'Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd',
    );
  });

  it("matches AWS's GET Object (range) and GET Bucket (sorted query) examples", () => {
    const base = { 'x-amz-content-sha256': EMPTY, 'x-amz-date': '20130524T000000Z' };
    expect(
      signV4(
        {
          method: 'GET',
          url: new URL('https://examplebucket.s3.amazonaws.com/test.txt'),
          headers: { ...base, Range: 'bytes=0-9' },
          payloadHash: EMPTY,
          date: DATE,
        },
        CREDENTIALS,
      ),
    ).toMatch(/Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41$/);
    expect(
      signV4(
        {
          method: 'GET',
          url: new URL('https://examplebucket.s3.amazonaws.com/?max-keys=2&prefix=J'),
          headers: base,
          payloadHash: EMPTY,
          date: DATE,
        },
        CREDENTIALS,
      ),
    ).toMatch(/Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7$/);
  });

  it('encodes each key segment and keeps the slashes', () => {
    expect(encodeS3Key("audit/a b/x+y/it's*.json")).toBe('audit/a%20b/x%2By/it%27s%2A.json');
  });
});
