/* portal.c: placeholder, being written */
