"""Code every QuixoticWhisper function shares. It lives in functions/shared/ and ships inside each
function as src/shared/ (functions/package.py puts it there)."""
