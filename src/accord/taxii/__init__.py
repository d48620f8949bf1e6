"""TAXII 2.1 (OASIS, https://docs.oasis-open.org/cti/taxii/v2.1/taxii-v2.1.html): the server
mounted at ``/taxii2/`` on the node (:func:`accord.taxii.app.create_taxii_app`) and the
client that pulls feeds (:mod:`accord.taxii.client`, :mod:`accord.taxii.pull`)."""
