"""TAXII 2.1 (OASIS, https://docs.oasis-open.org/cti/taxii/v2.1/taxii-v2.1.html): the server
mounted at ``/taxii2/`` on the node (:func:`accord.taxii.app.create_taxii_app`). The client
that pulls feeds is in :mod:`accord.federation`."""
