/* The pinned trust anchor of attestation documents: the AWS Nitro Enclaves
 * root certificate G1, compiled in as bytes and checked against its
 * published SHA-256 before every use. */
#ifndef CLEANROOM_AWS_ROOT_H
#define CLEANROOM_AWS_ROOT_H

#include <stdint.h>

#include "base/digest.h"
#include "base/util.h"

#define AWS_ROOT_G1_LEN 533

extern const uint8_t aws_root_g1_der[AWS_ROOT_G1_LEN];
extern const uint8_t aws_root_g1_sha256[CR_SHA256_LEN];

/* 0 when aws_root_g1_der hashes to aws_root_g1_sha256. */
int aws_root_check(struct cr_err *e);

#endif
