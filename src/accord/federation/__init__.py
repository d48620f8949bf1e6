"""Federation: intelligence from other nodes. A TAXII 2.1 client
(:mod:`accord.federation.taxii_client`), pulling a feed into the store
(:mod:`accord.federation.feed_pull`) and the pulls of the feeds that are due
(:mod:`accord.federation.feed_scheduler`, run by the node's background worker, `accord.jobs`)."""
