"""The SMS side of Nidaa: phone numbers, PDU encoding, the outbox and the
gateway daemon that sends a citizen an Arabic SMS at every stage of a request."""
