<?php
// Reference vectors for shopauth: phpass (Openwall, as shipped in WordPress
// wp-includes/class-phpass.php) and PHP's own password_hash.
require 'PasswordHash.php';
$out = [];
$ph = new PasswordHash(8, true);
$pw = ['password', 'change123', 'rasmuslerdorf', "pässwörd ✓", str_repeat('a', 80), '#$%^&*()_+{}|:"<>?'];
foreach ($pw as $p) {
  $h = $ph->HashPassword($p);
  if (!$ph->CheckPassword($p, $h)) die("self-check failed\n");
  $out[] = ['format' => 'phpass-P', 'password' => $p, 'hash' => $h];
  // phpBB3 writes the same construction under $H$.
  $hh = '$H$' . substr($h, 3);
  if (!$ph->CheckPassword($p, $hh)) die("H self-check failed\n");
  $out[] = ['format' => 'phpass-H', 'password' => $p, 'hash' => $hh];
}
foreach ($pw as $p) {
  $out[] = ['format' => 'bcrypt-2y', 'password' => $p, 'hash' => password_hash($p, PASSWORD_BCRYPT, ['cost' => 5])];
  $b = crypt($p, '$2a$05$' . substr(strtr(base64_encode(random_bytes(16)), '+', '.'), 0, 22));
  $out[] = ['format' => 'bcrypt-2a', 'password' => $p, 'hash' => $b];
  $b = crypt($p, '$2b$05$' . substr(strtr(base64_encode(random_bytes(16)), '+', '.'), 0, 22));
  $out[] = ['format' => 'bcrypt-2b', 'password' => $p, 'hash' => $b];
  if (defined('PASSWORD_ARGON2ID')) {
    $out[] = ['format' => 'argon2id', 'password' => $p, 'hash' => password_hash($p, PASSWORD_ARGON2ID, ['memory_cost' => 1024, 'time_cost' => 2, 'threads' => 1])];
    $out[] = ['format' => 'argon2i', 'password' => $p, 'hash' => password_hash($p, PASSWORD_ARGON2I, ['memory_cost' => 1024, 'time_cost' => 2, 'threads' => 1])];
  }
}
foreach ($out as $v) { echo json_encode($v, JSON_UNESCAPED_SLASHES|JSON_UNESCAPED_UNICODE), "\n"; }
fwrite(STDERR, "PHP " . PHP_VERSION . "\n");
