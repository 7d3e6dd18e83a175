using Cimef.Site.Data.Entities;
using Cimef.Site.Notifications;
using Cimef.Site.Tests.Infrastructure;
using MimeKit;
using static Cimef.Site.Tests.Reports.ReportTestData;

namespace Cimef.Site.Tests.Notifications;

public sealed class SmtpFactory : CimefFactory
{
    public int SmtpPort { get; } = FreePort.Next();

    public SmtpFactory()
    {
        Settings["Email:Smtp:Host"] = "127.0.0.1";
        Settings["Email:Smtp:Port"] = SmtpPort.ToString();
        Settings["Email:Smtp:Security"] = "None";
    }
}

public class EmailDeliveryTests(SmtpFactory factory) : IClassFixture<SmtpFactory>
{
    [Fact]
    public async Task The_results_email_reaches_a_real_smtp_server_with_the_specs_wording()
    {
        await using var smtp = await LoopbackSmtp.StartAsync(factory.SmtpPort);
        var s = await factory.Data.PatientAsync(status: InvoiceStatus.Paid, name: "Fatou Diop", email: "fatou@example.sn");
        await UploadAsync(factory, s, PdfBytes, title: "IRM du genou");

        await factory.ProcessOutboxAsync();

        var (key, password) = (s.Key, s.Password);
        var results = Assert.Single(smtp.Received, m => m.Subject == EmailMessages.ResultsSubject);
        Assert.Equal("fatou@example.sn", results.To.Mailboxes.Single().Address);
        var text = results.TextBody;
        Assert.Contains("Bonjour Fatou Diop", text);
        Assert.Contains("Vos résultats CIMEF sont disponibles", text);
        // A phone or mailbox shared by a family learns only that a result exists: no exam, no report title.
        Assert.DoesNotContain("IRM", results.Subject + text + results.HtmlBody);
        Assert.DoesNotContain("genou", results.Subject + text + results.HtmlBody);
        Assert.Contains("http://localhost:5000/patient", text);
        Assert.Contains(Grouped(key), text);
        Assert.Contains(password, text);
        Assert.Contains("identifiants permanents et réutilisables", text);
        Assert.Contains("identifiants permanents et réutilisables", results.HtmlBody);
        Assert.Contains(Grouped(key), results.HtmlBody);
        Assert.Contains(smtp.Received, m => m.Subject == EmailMessages.CredentialsSubject);
        var emails = (await factory.OutboxOfAsync(s.PatientId)).Where(m => m.Channel == OutboxChannel.Email).ToList();
        Assert.All(emails, m => Assert.Equal(OutboxStatus.Sent, m.Status));
    }
}

public class PatientLanguageDeliveryTests(SmtpFactory factory) : IClassFixture<SmtpFactory>
{
    [Fact]
    public async Task A_patient_whose_language_is_wolof_gets_the_results_email_in_wolof()
    {
        await using var smtp = await LoopbackSmtp.StartAsync(factory.SmtpPort);
        var s = await factory.Data.PatientAsync(status: InvoiceStatus.Paid, name: "Awa Sarr", email: "awa@example.sn");
        await factory.WithDbAsync(async db =>
        {
            (await db.Patients.FindAsync(s.PatientId))!.Language = "wo";
            return await db.SaveChangesAsync();
        });
        await UploadAsync(factory, s, PdfBytes, title: "Scanner thoracique");

        await factory.ProcessOutboxAsync();

        var results = Assert.Single(smtp.Received, m => m.To.Mailboxes.Single().Address == "awa@example.sn" && m.Subject == "Sa njureef CIMEF jot na");
        Assert.Contains("Asalaa maalekum Awa Sarr", results.TextBody);
        Assert.Contains("Sa baatu jàll : " + s.Password, results.TextBody);
        Assert.DoesNotContain("Scanner", results.Subject + results.TextBody + results.HtmlBody);
        Assert.DoesNotContain("Vos résultats", results.TextBody);
    }
}

public sealed class SmtpDownFactory : CimefFactory
{
    public int SmtpPort { get; } = FreePort.Next();

    public SmtpDownFactory()
    {
        Settings["Email:Smtp:Host"] = "127.0.0.1";
        Settings["Email:Smtp:Port"] = SmtpPort.ToString();
        Settings["Email:Smtp:Security"] = "None";
    }
}

public class SmtpOutageTests(SmtpDownFactory factory) : IClassFixture<SmtpDownFactory>
{
    [Fact]
    public async Task With_smtp_down_the_message_is_retried_and_arrives_once_smtp_is_back()
    {
        var s = await factory.Data.PatientAsync(status: InvoiceStatus.Paid, email: "moussa@example.sn", phone: "");
        await UploadAsync(factory, s, PdfBytes);

        await factory.ProcessOutboxAsync();

        var (key, password) = (s.Key, s.Password);
        var pending = await factory.OutboxOfAsync(s.PatientId);
        Assert.Equal(2, pending.Count);
        Assert.All(pending, m =>
        {
            Assert.Equal(OutboxStatus.Pending, m.Status);
            Assert.Equal(1, m.Attempts);
            Assert.Equal(factory.Time.GetUtcNow().UtcDateTime.AddMinutes(1), m.NextAttemptAt);
            Assert.Contains("SMTP injoignable", m.LastError);
            Assert.DoesNotContain(key, m.LastError);
            Assert.DoesNotContain(password, m.LastError);
        });

        await using var smtp = await LoopbackSmtp.StartAsync(factory.SmtpPort);
        Assert.Equal(0, await factory.ProcessOutboxAsync()); // not due yet
        factory.Time.Advance(TimeSpan.FromMinutes(1));
        await factory.ProcessOutboxAsync();

        Assert.All(await factory.OutboxOfAsync(s.PatientId), m => Assert.Equal((OutboxStatus.Sent, 2), (m.Status, m.Attempts)));
        Assert.Contains(smtp.Received, m => m.Subject == EmailMessages.ResultsSubject && (m.TextBody ?? "").Contains(password));
    }
}
