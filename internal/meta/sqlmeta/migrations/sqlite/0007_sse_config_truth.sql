-- Until this version every store reported sseConfig {type: KMS} (the type
-- was filled in when a request gave none, and a given keyArn was kept) while
-- its objects were stored unencrypted. Stores now report sseConfig only when
-- their objects are encrypted at rest, which no store made before this
-- version is, so their sseConfig is cleared.
UPDATE sequence_stores SET sse_type = '', sse_key_arn = '';
UPDATE reference_stores SET sse_type = '', sse_key_arn = '';
