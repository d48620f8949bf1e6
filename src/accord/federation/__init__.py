"""Federation: intelligence from other nodes. A TAXII 2.1 client
(:mod:`accord.federation.taxii_client`), pulling a feed into the store
(:mod:`accord.federation.feed_pull`) and the server's scheduled pulls
(:mod:`accord.federation.feed_scheduler`)."""
