/**
 * The S3 gate's body stage: the request body read under S3's limits, checked against what the
 * signature promised (authenticate.ts), and, when it is XML, read with a real parser against
 * the operation's schema, so malformed or oversized input is S3's 4xx here, never something
 * the emulator has to survive. A DeleteObjects body is read before authorisation (its keys are
 * what is authorised); every other body after it, as S3 reads it.
 */
import { verifiedPayload, type Authenticated } from './authenticate';
import { MAX_GATE_BODY_BYTES, entityTooLarge, type Exchange } from './exchange';
import { aclNotSupported, planDeleteObjects, type DeleteObjectsPlan } from './checks';
import type { S3Operation } from './operations';
import type { ParsedS3Request } from './request';
import { MAX_XML_BODY_BYTES, xmlTooLarge } from './xml-bodies';
import type { XmlReader } from './xml-thread';

/** Operations whose body is object data; every other body the gate reads is XML. */
const DATA_OPERATIONS = new Set(['PutObject', 'UploadPart']);

/** Reads a DeleteObjects body and plans its deletes. */
export async function readDeletePlan(
  exchange: Exchange,
  signed: Authenticated,
  operation: S3Operation,
  xml: XmlReader,
): Promise<DeleteObjectsPlan> {
  const body = await exchange.read(2 * MAX_XML_BODY_BYTES, xmlTooLarge);
  return planDeleteObjects(
    operation.bucket ?? '',
    await xml.read('DeleteObjects', verifiedPayload(signed, body, true)),
  );
}

/** Reads the body of an authorised operation: the object bytes it carries, verified. */
export async function receiveBody(
  exchange: Exchange,
  parsed: ParsedS3Request,
  signed: Authenticated,
  operation: S3Operation,
  xml: XmlReader,
): Promise<Buffer> {
  const isData = DATA_OPERATIONS.has(operation.name);
  // XML bodies are small: reading one stops well before the data limit (aws-chunked framing allowed for).
  const body = await exchange.read(
    isData ? MAX_GATE_BODY_BYTES : 2 * MAX_XML_BODY_BYTES,
    isData ? entityTooLarge : xmlTooLarge,
  );
  const payload = verifiedPayload(signed, body, isData);
  if (!isData && (parsed.method === 'PUT' || parsed.method === 'POST'))
    await checkRequestXml(xml, operation.name, payload, parsed.headers.get('x-amz-acl') !== undefined);
  return payload;
}

/** Reads the XML body of a non-data operation with a real parser under S3's limits, against the operation's schema. */
async function checkRequestXml(xml: XmlReader, operation: string, payload: Buffer, cannedAcl: boolean): Promise<void> {
  switch (operation) {
    case 'PutObjectAcl':
      if (!cannedAcl && !(await xml.read('PutObjectAcl', payload))) throw aclNotSupported();
      return;
    case 'PutObjectTagging':
    case 'CompleteMultipartUpload':
      await xml.read(operation, payload);
      return;
    default:
      if (payload.length > 0) await xml.read('other', payload);
  }
}
