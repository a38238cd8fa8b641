#define DD_VERSION "0.1.0"
