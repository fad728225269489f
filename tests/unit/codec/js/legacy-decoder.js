// TTN v2 style codec: Decoder(bytes, port) returns the data object; Encoder(object, port) returns bytes.
function Decoder(bytes, port) { return { first: bytes[0], port: port }; }
function Encoder(object, port) { return [object.level, port]; }
