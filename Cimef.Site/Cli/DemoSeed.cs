using System.Security.Claims;
using System.Text;
using Cimef.Site.Access;
using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Cimef.Site.FrontDesk;
using Cimef.Site.Storage;
using Cimef.Site.Web;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace Cimef.Site.Cli;

/// <summary>
/// A realistic demo: staff for every role, Senegalese patients, invoices in every state with payments,
/// permanent accesses and a released report. Development starts seed it on an empty database.
/// </summary>
public static class DemoSeed
{
    public const string AdminEmail = "admin@cimef.sn";
    public const string StaffPassword = "Demo-Cimef-2026";

    private static readonly (string Name, string Phone, string? Email, DateOnly? Born)[] DemoPatients =
    [
        ("Aminata Diop", "+221771234567", "aminata.diop@example.sn", new DateOnly(1985, 3, 14)),
        ("Mamadou Ndiaye", "+221762345678", null, new DateOnly(1972, 11, 2)),
        ("Fatou Sow", "+221703456789", "fatou.sow@example.sn", new DateOnly(1990, 7, 21)),
        ("Ibrahima Fall", "+221774567890", null, new DateOnly(1964, 1, 30)),
        ("Awa Gueye", "+221785678901", "awa.gueye@example.sn", new DateOnly(1998, 9, 5)),
        ("Cheikh Ba", "+221766789012", null, null),
        ("Khady Sarr", "+221707890123", "khady.sarr@example.sn", new DateOnly(1979, 4, 12)),
        ("Ousmane Faye", "+221778901234", null, new DateOnly(1956, 12, 25)),
        ("Mariama Cissé", "+221769012345", "mariama.cisse@example.sn", new DateOnly(2001, 6, 8)),
        ("Moussa Diallo", "+221770123456", null, new DateOnly(1988, 2, 17)),
    ];

    public static async Task SeedIfEmptyAsync(IServiceProvider services, TextWriter output)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<CimefDb>();
        if (await db.Patients.AnyAsync() || await db.Users.AnyAsync()) return;
        await RunAsync(scope.ServiceProvider, output, output);
    }

    public static async Task<int> RunAsync(IServiceProvider sp, TextWriter stdout, TextWriter stderr)
    {
        var db = sp.GetRequiredService<CimefDb>();
        var users = sp.GetRequiredService<UserManager<StaffUser>>();
        var time = sp.GetRequiredService<TimeProvider>();
        var clock = sp.GetRequiredService<ClinicClock>();
        var provisioning = sp.GetRequiredService<AccessProvisioning>();
        var store = sp.GetRequiredService<ReportStore>();
        if (await db.Patients.AnyAsync(p => p.Phone == DemoPatients[0].Phone))
        {
            await stderr.WriteLineAsync("Les données de démonstration sont déjà présentes.");
            return 1;
        }

        foreach (var (email, name, role) in new[]
                 {
                     (AdminEmail, "Awa Administratrice", Roles.Admin),
                     ("secretaire@cimef.sn", "Ndèye Secrétaire", Roles.Secretary),
                     ("medecin@cimef.sn", "Dr Abdoulaye Radiologue", Roles.Doctor),
                     ("comptable@cimef.sn", "Pape Comptable", Roles.Accountant),
                 })
        {
            if (await users.FindByEmailAsync(email) is null)
                await StaffAccounts.CreateAsync(sp, email, name, role, StaffPassword);
        }

        var now = time.GetUtcNow().UtcDateTime;
        var exams = await db.Exams.Where(e => e.IsActive).OrderBy(e => e.Id).ToListAsync();
        await using var tx = await db.Database.BeginTransactionAsync();
        var registration = sp.GetRequiredService<PatientRegistration>();
        var secretary = new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.Name, "secretaire@cimef.sn")], "seed"));
        var patients = new List<Patient>();
        foreach (var (p, i) in DemoPatients.Select((p, i) => (p, i)))
        {
            var (patient, _) = await registration.RegisterAsync(new PatientRules.Cleaned(p.Name, p.Phone, p.Email, p.Born), secretary);
            patient.CreatedAt = now.AddDays(-30 + i); // a month of history for the demo
            patients.Add(patient);
        }
        await db.SaveChangesAsync();

        Invoice? reportInvoice = null;
        var statuses = new[] { InvoiceStatus.Paid, InvoiceStatus.Sent, InvoiceStatus.Paid, InvoiceStatus.Draft, InvoiceStatus.Paid, InvoiceStatus.Cancelled, InvoiceStatus.Sent, InvoiceStatus.Paid, InvoiceStatus.Draft, InvoiceStatus.Paid };
        var methods = Enum.GetValues<PaymentMethod>();
        for (var i = 0; i < patients.Count; i++)
        {
            var created = now.AddDays(-20 + i);
            var exam = exams[(i * 3) % exams.Count];
            var invoice = new Invoice
            {
                Number = await InvoiceNumbers.NextAsync(db, clock.ToLocal(created).Year),
                Patient = patients[i],
                PatientId = patients[i].Id,
                CreatedAt = created,
                CreatedBy = "secretaire@cimef.sn",
                Lines = [new InvoiceLine { ExamId = exam.Id, Description = exam.Name, Quantity = 1, UnitPrice = exam.Price, Total = exam.Price }],
                Total = exam.Price,
            };
            db.Invoices.Add(invoice);
            var status = statuses[i];
            if (status is InvoiceStatus.Sent or InvoiceStatus.Paid or InvoiceStatus.Cancelled)
            {
                invoice.Status = InvoiceStatus.Sent;
                invoice.IssuedAt = created.AddMinutes(5);
                invoice.IssuedBy = "secretaire@cimef.sn";
                await provisioning.EnsureForInvoiceAsync(invoice, null);
            }
            if (status == InvoiceStatus.Paid)
            {
                invoice.Payments.Add(new Payment { Amount = invoice.Total, Method = methods[i % methods.Length], At = created.AddMinutes(20), ReceivedBy = "comptable@cimef.sn" });
                invoice.Status = InvoiceStatus.Paid;
                invoice.PaidAt = created.AddMinutes(20);
                invoice.PaidBy = "comptable@cimef.sn";
                reportInvoice ??= invoice;
            }
            if (status == InvoiceStatus.Cancelled)
            {
                invoice.Status = InvoiceStatus.Cancelled;
                invoice.CancelledAt = created.AddHours(1);
                invoice.CancelledBy = "secretaire@cimef.sn";
                invoice.CancelReason = "Examen reporté à la demande du patient";
            }
            await db.SaveChangesAsync();
        }

        var demoAccess = await db.PatientAccesses.Include(a => a.Patient).SingleAsync(a => a.Id == reportInvoice!.PatientAccessId);
        var pdf = MinimalPdf($"CIMEF - Compte rendu d'examen - {demoAccess.Patient.FullName}");
        var stored = await store.SaveAsync(new MemoryStream(pdf), "pdf");
        try
        {
            db.PatientReports.Add(new PatientReport
            {
                PatientAccessId = demoAccess.Id,
                InvoiceId = reportInvoice!.Id,
                Title = reportInvoice.Lines[0].Description,
                StoredFileName = stored.StoredFileName,
                OriginalName = "compte-rendu.pdf",
                ContentType = "application/pdf",
                Size = stored.Size,
                Sha256 = stored.Sha256,
                CreatedAt = now.AddDays(-ActivityDays),
                CreatedBy = "medecin@cimef.sn",
                IsActive = true,
                Integrity = FileIntegrity.Ok,
            });
            await db.SaveChangesAsync();
            await AddActivityAsync(db, now, reportInvoice);
            await tx.CommitAsync();
        }
        catch
        {
            await store.DeleteAsync(stored.StoredFileName);
            throw;
        }

        await stdout.WriteLineAsync("=== Données de démonstration créées ===");
        await stdout.WriteLineAsync($"Personnel : {AdminEmail} / {StaffPassword} (aussi secretaire@, medecin@, comptable@cimef.sn, même mot de passe)");
        await stdout.WriteLineAsync($"Patient : {demoAccess.Patient.FullName} — clé {CredentialGenerator.FormatKey(demoAccess.AccessKey)} — mot de passe {provisioning.RevealPassword(demoAccess)}");
        return 0;
    }

    /// <summary>Days of patient activity before today, so the statistics, the history and the alerts have something to show.</summary>
    public const int ActivityDays = 60;

    private static readonly string[] Phones =
    [
        "Mozilla/5.0 (Linux; Android 12; TECNO KG5) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36",
        "Mozilla/5.0 (Linux; Android 11; SM-A125F) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0 Mobile Safari/537.36",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
    ];

    /// <summary>
    /// Sixty days of what a small clinic's portal sees: logins (some wrong), report lists and downloads on every access,
    /// a report shared with a doctor and opened by them, a Wave payment, and a burst of wrong passwords that raised an
    /// alert. Fixed seed: every demo shows the same picture.
    /// </summary>
    private static async Task AddActivityAsync(CimefDb db, DateTime now, Invoice reportInvoice)
    {
        var random = new Random(2026);
        var accesses = await db.PatientAccesses.AsNoTracking().Select(a => new { a.Id, a.AccessKey }).ToListAsync();
        var report = await db.PatientReports.AsNoTracking().SingleAsync(r => r.InvoiceId == reportInvoice.Id);
        for (var day = ActivityDays; day >= 1; day--)
        {
            var date = now.Date.AddDays(-day);
            foreach (var access in accesses)
            {
                if (random.Next(3) != 0) continue; // each access is used about one day in three
                var at = date.AddHours(7 + random.Next(14)).AddMinutes(random.Next(60));
                var agent = Phones[access.Id % Phones.Length];
                var ip = $"41.82.{access.Id % 250}.{random.Next(1, 250)}";
                var suffix = access.AccessKey[^4..];
                if (random.Next(6) == 0)
                    db.AccessEvents.Add(new AccessEvent { At = at.AddMinutes(-1), Kind = AccessEventKinds.LoginFailure, PatientAccessId = access.Id, KeySuffix = suffix, ClientIp = ip, UserAgent = agent });
                db.AccessEvents.Add(new AccessEvent { At = at, Kind = AccessEventKinds.LoginSuccess, PatientAccessId = access.Id, KeySuffix = suffix, ClientIp = ip, UserAgent = agent });
                db.AccessEvents.Add(new AccessEvent { At = at.AddSeconds(2), Kind = AccessEventKinds.ReportList, PatientAccessId = access.Id, ClientIp = ip });
                if (access.Id == report.PatientAccessId && random.Next(2) == 0)
                    db.AccessEvents.Add(new AccessEvent { At = at.AddSeconds(20), Kind = AccessEventKinds.Download, PatientAccessId = access.Id, ReportId = report.Id, ClientIp = ip });
                if (random.Next(4) == 0)
                    db.AccessEvents.Add(new AccessEvent { At = at.AddMinutes(3), Kind = AccessEventKinds.Logout, PatientAccessId = access.Id, ClientIp = ip });
            }
        }

        // The demo patient shared the report with a doctor 12 days ago; the doctor opened and downloaded it.
        var sharedAt = now.AddDays(-12);
        var share = new ReportShare
        {
            ReportId = report.Id, PatientAccessId = report.PatientAccessId,
            TokenHash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16))),
            CodeHash = System.Security.Cryptography.RandomNumberGenerator.GetBytes(32), // no code opens it: a demo share
            CreatedAt = sharedAt, ExpiresAt = sharedAt.AddDays(7),
        };
        db.ReportShares.Add(share);
        await db.SaveChangesAsync();
        var shareId = share.Id.ToString(System.Globalization.CultureInfo.InvariantCulture);
        db.AccessEvents.Add(new AccessEvent { At = sharedAt.AddHours(3), Kind = AccessEventKinds.ShareOpen, PatientAccessId = report.PatientAccessId, ReportId = report.Id, Detail = shareId, ClientIp = "41.214.20.7", UserAgent = Phones[3] });
        db.AccessEvents.Add(new AccessEvent { At = sharedAt.AddHours(3).AddMinutes(1), Kind = AccessEventKinds.ShareDownload, PatientAccessId = report.PatientAccessId, ReportId = report.Id, Detail = shareId, ClientIp = "41.214.20.7" });

        // An invoice settled with Wave from the SMS link, 25 days ago.
        var waveInvoice = await db.Invoices.Include(i => i.Payments)
            .Where(i => i.Status == InvoiceStatus.Sent && i.Id != reportInvoice.Id).OrderBy(i => i.Id).FirstOrDefaultAsync();
        if (waveInvoice is not null)
        {
            var paidAt = now.AddDays(-25);
            var checkoutId = "cos-demo" + waveInvoice.Id.ToString(System.Globalization.CultureInfo.InvariantCulture);
            db.PaymentCheckouts.Add(new PaymentCheckout
            {
                InvoiceId = waveInvoice.Id, Provider = "wave", CheckoutId = checkoutId, Amount = waveInvoice.Total,
                Url = "https://pay.wave.com/c/" + checkoutId, Status = CheckoutStatus.Paid, CreatedAt = paidAt.AddMinutes(-10),
                CreatedBy = "secretaire@cimef.sn", ClosedAt = paidAt,
            });
            waveInvoice.Payments.Add(new Payment { Amount = waveInvoice.Total, Method = PaymentMethod.Wave, At = paidAt, ReceivedBy = "Wave", Reference = checkoutId });
            waveInvoice.Status = InvoiceStatus.Paid;
            waveInvoice.PaidAt = paidAt;
            waveInvoice.PaidBy = "Wave";
        }

        // Nine wrong passwords on one key from one address, 5 days ago: the alert an admin would have seen.
        var target = accesses[^1];
        var burst = now.AddDays(-5).Date.AddHours(23);
        for (var i = 0; i < 9; i++)
            db.AccessEvents.Add(new AccessEvent { At = burst.AddSeconds(20 * i), Kind = AccessEventKinds.LoginFailure, PatientAccessId = target.Id, KeySuffix = target.AccessKey[^4..], ClientIp = "197.149.3.88", UserAgent = Phones[0] });
        db.Alerts.Add(new Alert
        {
            At = burst.AddMinutes(3), Level = AlertLevel.Warning, Kind = AlertKinds.LoginFailures, Subject = "clé …" + target.AccessKey[^4..],
            Detail = "9 échecs de connexion en 3 minutes depuis 197.149.3.88", DedupKey = AlertKinds.LoginFailures + ":demo",
        });
        await db.SaveChangesAsync();
    }

    /// <summary>A one-page PDF with one line of text (standard Helvetica font, nothing embedded).</summary>
    public static byte[] MinimalPdf(string line)
    {
        var safe = new string(line.Where(c => c < 128 && c != '(' && c != ')' && c != '\\').ToArray());
        var content = $"BT /F1 14 Tf 60 760 Td ({safe}) Tj ET";
        var objects = new[]
        {
            "<< /Type /Catalog /Pages 2 0 R >>",
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
            $"<< /Length {content.Length} >>\nstream\n{content}\nendstream",
        };
        var sb = new StringBuilder("%PDF-1.4\n");
        var offsets = new List<int>();
        for (var i = 0; i < objects.Length; i++)
        {
            offsets.Add(sb.Length);
            sb.Append($"{i + 1} 0 obj\n{objects[i]}\nendobj\n");
        }
        var xref = sb.Length;
        sb.Append($"xref\n0 {objects.Length + 1}\n0000000000 65535 f \n");
        foreach (var o in offsets) sb.Append($"{o:D10} 00000 n \n");
        sb.Append($"trailer\n<< /Size {objects.Length + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n");
        return Encoding.ASCII.GetBytes(sb.ToString());
    }
}
