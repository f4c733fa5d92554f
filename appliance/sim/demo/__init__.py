"""`nidaa demo`: a virtual branch on this machine."""
