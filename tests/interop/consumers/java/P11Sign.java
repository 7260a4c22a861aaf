/*
 * Interop: Java's SunPKCS11 provider signs through a PKCS#11 module.
 *   java P11Sign CONFIG PIN DATA OUTDIR ALIAS:ALG [ALIAS:ALG ...]
 * For each ALIAS:ALG (e.g. ec-key:SHA256withECDSA) it finds the private key
 * and certificate under ALIAS in the "PKCS11" KeyStore, signs DATA inside
 * the token, verifies the signature in Java with the certificate's public
 * key through a software provider (not the token), and writes
 * OUTDIR/ALIAS.sig and OUTDIR/ALIAS.spki.der so openssl can verify too.
 * Prints one PASS/FAIL line per check and "N passed, M failed"; exits 1 on
 * any failure.
 */
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.PublicKey;
import java.security.Security;
import java.security.Signature;
import java.security.cert.Certificate;
import java.util.Collections;
import java.util.List;

public final class P11Sign {
    private static int passed;
    private static int failed;

    private static void result(String name, boolean ok, String why) {
        if (ok) {
            passed++;
            System.out.println("PASS: java: " + name);
        } else {
            failed++;
            System.out.println("FAIL: java: " + name + (why == null ? "" : " -- " + why));
        }
    }

    /* The software provider that verifies: never the token under test. */
    private static Signature softwareVerifier(String alg) throws Exception {
        String prov = alg.endsWith("ECDSA") ? "SunEC" : "SunRsaSign";
        return Signature.getInstance(alg, prov);
    }

    private static void signWith(Provider p11, KeyStore ks, String alias, String alg,
                                 byte[] data, Path outDir) {
        try {
            PrivateKey priv = (PrivateKey) ks.getKey(alias, null);
            Certificate cert = ks.getCertificate(alias);
            result(alias + ": KeyStore has private key entry", priv != null && cert != null,
                   "key=" + priv + " cert=" + cert);
            if (priv == null || cert == null) {
                return;
            }
            Signature s = Signature.getInstance(alg, p11);
            s.initSign(priv);
            s.update(data);
            byte[] sig = s.sign();
            result(alias + ": " + alg + " sign through SunPKCS11", sig.length > 0, null);

            PublicKey pub = cert.getPublicKey();
            Signature v = softwareVerifier(alg);
            v.initVerify(pub);
            v.update(data);
            result(alias + ": " + alg + " verifies in Java (" + v.getProvider().getName() + ")",
                   v.verify(sig), null);

            byte[] other = data.clone();
            other[0] ^= 1;
            v.initVerify(pub);
            v.update(other);
            result(alias + ": signature rejected over altered data", !v.verify(sig), null);

            Files.write(outDir.resolve(alias + ".sig"), sig);
            Files.write(outDir.resolve(alias + ".spki.der"), pub.getEncoded());
        } catch (Exception e) {
            result(alias + ": " + alg, false, e.toString());
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 5) {
            System.err.println("usage: P11Sign CONFIG PIN DATA OUTDIR ALIAS:ALG...");
            System.exit(2);
        }
        Provider p11 = Security.getProvider("SunPKCS11").configure(args[0]);
        Security.addProvider(p11);
        KeyStore ks = KeyStore.getInstance("PKCS11", p11);
        try {
            ks.load(null, args[1].toCharArray());
            result("KeyStore PKCS11 load with user PIN", true, null);
        } catch (Exception e) {
            result("KeyStore PKCS11 load with user PIN", false, e.toString());
            System.out.println(passed + " passed, " + failed + " failed");
            System.exit(1);
        }
        List<String> aliases = Collections.list(ks.aliases());
        System.out.println("aliases: " + aliases);
        byte[] data = Files.readAllBytes(Path.of(args[2]));
        Path outDir = Path.of(args[3]);
        for (int i = 4; i < args.length; i++) {
            String[] aa = args[i].split(":", 2);
            result(aa[0] + ": alias listed", aliases.contains(aa[0]), "aliases " + aliases);
            signWith(p11, ks, aa[0], aa[1], data, outDir);
        }
        System.out.println(passed + " passed, " + failed + " failed");
        System.exit(failed == 0 && passed > 0 ? 0 : 1);
    }
}
