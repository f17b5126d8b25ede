from cryptography import x509
from django.conf import settings
from django.core.management.base import BaseCommand

from generations import provenance


class Command(BaseCommand):
    help = (
        "Say which certificate signs the images' Content Credentials, making the development one "
        "under STUDIO_C2PA_DIR when none is configured (`make run` calls this on every start)."
    )

    def handle(self, *args: object, **opts: object) -> None:
        if not settings.STUDIO_C2PA:
            self.stdout.write("Content Credentials: signing is off (STUDIO_C2PA=0); files still carry the XMP marking.")
            return
        material = provenance.signing_material()
        leaf = x509.load_pem_x509_certificates(material.chain)[0]
        subject = leaf.subject.rfc4514_string()
        if material.development:
            self.stdout.write(
                f"Content Credentials: signed with the DEVELOPMENT certificate in {settings.STUDIO_C2PA_DIR} "
                f"({subject}). For development only: set STUDIO_C2PA_CERT and STUDIO_C2PA_KEY in production."
            )
        else:
            self.stdout.write(f"Content Credentials: signed as {subject} (STUDIO_C2PA_CERT).")
