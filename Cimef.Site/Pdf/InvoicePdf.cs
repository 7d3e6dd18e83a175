using Cimef.Site.Access;
using Cimef.Site.Auditing;
using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Cimef.Site.FrontDesk;
using Cimef.Site.Web;
using Microsoft.EntityFrameworkCore;
using PdfSharp.Drawing;
using PdfSharp.Pdf;
using QRCoder;

namespace Cimef.Site.Pdf;

/// <summary>
/// The printed invoice (A4): clinic header, number and dates, patient, lines, total in FCFA, payment status
/// and payments, and — when the invoice carries the patient's open access — the framed "Vos résultats en ligne"
/// box with the key, the password (or « remis par le cabinet » for staff without the credentials permission),
/// the portal URL and a QR code that opens the portal with the key filled in.
/// </summary>
public static class InvoicePdf
{
    /// <summary>Password null: the staff member may not hand it over; the box says the clinic gives it.</summary>
    public sealed record Credentials(string AccessKey, string? Password);

    public const string PasswordWithheld = "remis par le cabinet";

    /// <summary><paramref name="PayLink"/>: the latest open online-payment link (Wave), printed as a QR beside the balance.</summary>
    public sealed record Model(
        ClinicOptions Clinic, string PortalUrl, Invoice Invoice, Patient Patient, Credentials? Access, PayLink? PayLink = null);

    public sealed record PayLink(string Provider, string Url, int Amount);

    /// <summary>The QR payload: the portal URL with the key only (never the password).</summary>
    public static string QrPayload(string portalUrl, string accessKey) =>
        portalUrl + (portalUrl.Contains('?') ? "&" : "?") + "key=" + Uri.EscapeDataString(accessKey);

    /// <summary>
    /// Loads everything the PDF shows (null when the invoice does not exist). The box appears on a sent or paid
    /// invoice whose access is open; the password is in it only when <paramref name="by"/> may hand over
    /// credentials, and that render is audited (saved here, before any byte leaves).
    /// </summary>
    public static async Task<Model?> LoadAsync(CimefDb db, CredentialHandover handover, System.Security.Claims.ClaimsPrincipal by, string channel,
        ClinicOptions clinic, PortalOptions portal, int invoiceId, CancellationToken ct = default, TimeProvider? time = null)
    {
        var invoice = await db.Invoices.AsNoTracking()
            .Include(i => i.Patient).Include(i => i.Lines).Include(i => i.Payments).Include(i => i.PatientAccess)
            .AsSplitQuery()
            .SingleOrDefaultAsync(i => i.Id == invoiceId, ct);
        if (invoice is null) return null;
        Credentials? credentials = null;
        // A closed access (e.g. identifiers compromised) prints nothing: its credentials do not work anyway.
        if (invoice.PatientAccess is { IsActive: true } a && invoice.Status is InvoiceStatus.Sent or InvoiceStatus.Paid)
        {
            var password = await handover.RevealAsync(by, a, channel, invoice);
            if (password is not null) await db.SaveChangesAsync(ct);
            credentials = new Credentials(a.AccessKey, password);
        }
        var link = time is null ? null : await Payments.PaymentLinks.OpenLinkAsync(db, invoice, time.GetUtcNow().UtcDateTime, ct);
        return new Model(clinic, portal.Url, invoice, invoice.Patient, credentials,
            link is null ? null : new PayLink(PaymentMethods.French(PaymentMethod.Wave), Payments.PaymentLinks.PublicUrl(portal, link), link.Amount));
    }

    public static byte[] Render(Model m)
    {
        FontResolver.Register();
        using var doc = new PdfDocument();
        doc.Info.Title = $"Facture {m.Invoice.Number}";
        doc.Info.Author = m.Clinic.Name;
        var pages = new Pages(doc);
        try
        {
            Draw(pages, m);
        }
        finally
        {
            pages.Graphics.Dispose();
        }
        using var output = new MemoryStream();
        doc.Save(output, false);
        return output.ToArray();
    }

    /// <summary>The current page's graphics; <see cref="Next"/> starts a new A4 page (long invoices, or a box that does not fit).</summary>
    private sealed class Pages
    {
        private readonly PdfDocument _doc;
        public XGraphics Graphics { get; private set; }
        public double Width { get; private set; }

        public Pages(PdfDocument doc)
        {
            _doc = doc;
            (Graphics, Width) = New();
        }

        public XGraphics Next()
        {
            Graphics.Dispose();
            (Graphics, Width) = New();
            return Graphics;
        }

        private (XGraphics, double) New()
        {
            var page = _doc.AddPage();
            page.Size = PdfSharp.PageSize.A4;
            return (XGraphics.FromPdfPage(page), page.Width.Point);
        }
    }

    private const double Bottom = 790;

    private static void Draw(Pages pages, Model m)
    {
        // Dates only, no "now": the clinic zone from the invoice's own clinic settings.
        var clock = new ClinicClock(TimeProvider.System, m.Clinic);
        var g = pages.Graphics;
        var pageWidth = pages.Width;
        var title = new XFont(FontResolver.Family, 16, XFontStyleEx.Bold);
        var bold = new XFont(FontResolver.Family, 10, XFontStyleEx.Bold);
        var normal = new XFont(FontResolver.Family, 10, XFontStyleEx.Regular);
        var small = new XFont(FontResolver.Family, 8, XFontStyleEx.Regular);
        var ink = XBrushes.Black;
        var grey = new XSolidBrush(XColor.FromArgb(90, 100, 114));
        var line = new XPen(XColor.FromArgb(190, 198, 208), 0.6);
        const double left = 50;
        var right = pageWidth - 50;
        var inv = m.Invoice;

        // Header: clinic and invoice identity.
        double y = 60;
        g.DrawString(m.Clinic.Name, title, ink, left, y);
        y += 16;
        g.DrawString(m.Clinic.Address, normal, grey, left, y);
        y += 13;
        g.DrawString("Tél. " + m.Clinic.Phone, normal, grey, left, y);
        Right(g, "FACTURE", title, ink, right, 60);
        Right(g, inv.Number, bold, ink, right, 78);
        Right(g, "Date : " + clock.Date(inv.IssuedAt ?? inv.CreatedAt), normal, ink, right, 92);
        if (inv.PaidAt is not null) Right(g, "Payée le " + clock.Date(inv.PaidAt), normal, ink, right, 105);

        y += 30;
        g.DrawString("Patient", bold, ink, left, y);
        y += 14;
        g.DrawString(m.Patient.FullName, normal, ink, left, y);
        y += 13;
        var details = Phones.Display(m.Patient.Phone) + (m.Patient.DateOfBirth is DateOnly d ? " · né(e) le " + Fr.Date(d) : "");
        g.DrawString(details, normal, grey, left, y);
        Right(g, "Statut : " + Labels.Invoice(inv.Status), bold, ink, right, y - 13);

        // Lines.
        y += 28;
        double cQty = right - 200, cUnit = right - 100;
        g.DrawString("Examen", bold, ink, left, y);
        Right(g, "Qté", bold, ink, cQty, y);
        Right(g, "Prix unitaire", bold, ink, cUnit, y);
        Right(g, "Montant", bold, ink, right, y);
        y += 6;
        g.DrawLine(line, left, y, right, y);
        foreach (var l in inv.Lines)
        {
            y += 15;
            if (y > Bottom - 60)
            {
                g = pages.Next();
                y = 60;
            }
            g.DrawString(Clip(l.Description, 60), normal, ink, left, y);
            Right(g, l.Quantity.ToString(Fr.Culture), normal, ink, cQty, y);
            Right(g, Fr.Money(l.UnitPrice), normal, ink, cUnit, y);
            Right(g, Fr.Money(l.Total), normal, ink, right, y);
        }
        y += 8;
        g.DrawLine(line, left, y, right, y);
        y += 16;
        Right(g, "Total : " + Fr.Money(inv.Total), bold, ink, right, y);

        // Payments.
        var payments = inv.Payments.Where(p => p.ReversedAt == null).OrderBy(p => p.At).ToList();
        var paid = payments.Sum(p => p.Amount);
        y += 14;
        Right(g, "Payé : " + Fr.Money(paid) + "   Reste à payer : " + Fr.Money(Math.Max(0, inv.Total - paid)), normal, ink, right, y);
        if (payments.Count > 0)
        {
            y += 22;
            g.DrawString("Paiements", bold, ink, left, y);
            foreach (var p in payments)
            {
                y += 14;
                g.DrawString($"{clock.DateTime(p.At)} · {PaymentMethods.French(p.Method)}", normal, ink, left, y);
                Right(g, Fr.Money(p.Amount), normal, ink, right, y);
            }
        }
        if (inv.Status == InvoiceStatus.Cancelled)
        {
            y += 22;
            g.DrawString("Facture annulée : " + Clip(inv.CancelReason ?? "", 80), bold, new XSolidBrush(XColor.FromArgb(161, 29, 29)), left, y);
        }

        if (m.PayLink is { } pay)
        {
            const double payQr = 84;
            if (y + 30 + payQr > Bottom)
            {
                g = pages.Next();
                y = 30;
            }
            var top = y + 16;
            using var stream = new MemoryStream(QrBitmap(pay.Url, 2));
            using var image = XImage.FromStream(stream);
            g.DrawImage(image, left, top, payQr, payQr);
            g.DrawString($"Payer {Fr.Money(pay.Amount)} avec {pay.Provider} depuis votre téléphone :", bold, ink, left + payQr + 12, top + 30);
            g.DrawString("scannez ce code ; vos identifiants arrivent ensuite par SMS.", normal, ink, left + payQr + 12, top + 46);
            y = top + payQr;
        }

        if (m.Access is not null)
        {
            var top = y + 30;
            if (top + 150 > Bottom)
            {
                g = pages.Next();
                top = 60;
            }
            DrawAccessBox(g, m, m.Access, left, right, top, title, bold, normal, small, ink);
        }

        g.DrawString($"{m.Clinic.Name} · {m.Clinic.Address} · {m.Clinic.Phone}", small, grey, left, 810);
    }

    private static void DrawAccessBox(XGraphics g, Model m, Credentials c, double left, double right, double top,
        XFont title, XFont bold, XFont normal, XFont small, XBrush ink)
    {
        const double height = 150, qrSize = 120;
        var frame = new XPen(XColor.FromArgb(11, 93, 138), 2);
        g.DrawRoundedRectangle(frame, left, top, right - left, height, 10, 10);
        var x = left + 14;
        var y = top + 24;
        g.DrawString("Vos résultats en ligne", title, ink, x, y);
        var key = new XFont(FontResolver.Family, 14, XFontStyleEx.Bold);
        y += 26;
        g.DrawString("Clé d'accès :", normal, ink, x, y);
        g.DrawString(CredentialGenerator.FormatKey(c.AccessKey), key, ink, x + 95, y);
        y += 22;
        g.DrawString("Mot de passe :", normal, ink, x, y);
        if (c.Password is null) g.DrawString(PasswordWithheld, normal, ink, x + 95, y);
        else g.DrawString(c.Password, key, ink, x + 95, y);
        y += 22;
        g.DrawString("Adresse : " + m.PortalUrl, bold, ink, x, y);
        y += 18;
        g.DrawString("Ces identifiants sont permanents et réutilisables : conservez-les,", small, ink, x, y);
        y += 11;
        g.DrawString("ils restent valables pour tous vos examens au cabinet.", small, ink, x, y);

        var qr = QrBitmap(QrPayload(m.PortalUrl, c.AccessKey));
        using var stream = new MemoryStream(qr);
        using var image = XImage.FromStream(stream);
        g.DrawImage(image, right - qrSize - 14, top + (height - qrSize) / 2, qrSize, qrSize);
    }

    /// <summary>A BMP (PDFsharp's core build reads BMP and JPEG); 3 pixels per module keeps it sharp when scaled.</summary>
    private static byte[] QrBitmap(string payload, int pixelsPerModule = 3)
    {
        using var generator = new QRCodeGenerator();
        using var data = generator.CreateQrCode(payload, QRCodeGenerator.ECCLevel.M);
        return new BitmapByteQRCode(data).GetGraphic(pixelsPerModule);
    }

    private static void Right(XGraphics g, string text, XFont font, XBrush brush, double right, double y)
    {
        var w = g.MeasureString(text, font).Width;
        g.DrawString(text, font, brush, right - w, y);
    }

    private static string Clip(string s, int max) => s.Length <= max ? s : s[..(max - 1)] + "…";
}
