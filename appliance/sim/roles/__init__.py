"""Each role in the virtual branch: how ``nidaa demo`` starts and drives it."""
