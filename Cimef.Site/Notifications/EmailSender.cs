using System.Net.Sockets;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Options;
using MimeKit;

namespace Cimef.Site.Notifications;

/// <summary>
/// Sends any MimeMessage: over SMTP (MailKit) when Email:Smtp:Host is set, otherwise written as an .eml
/// file in data/mail-pickup/ so nothing is lost on a fresh install. Errors surface as DeliveryException.
/// </summary>
public sealed class EmailSender(IOptions<EmailOptions> email, IOptions<StorageOptions> storage, TimeProvider time)
{
    public bool UsesSmtp => !string.IsNullOrWhiteSpace(email.Value.Smtp.Host);

    public async Task SendAsync(MimeMessage message, CancellationToken ct = default)
    {
        if (message.From.Count == 0) message.From.Add(MailboxAddress.Parse(email.Value.From));
        if (!UsesSmtp)
        {
            await WritePickupAsync(message, ct);
            return;
        }
        var smtp = email.Value.Smtp;
        using var client = new SmtpClient { Timeout = 30_000 };
        try
        {
            await client.ConnectAsync(smtp.Host!, smtp.Port, SecurityOf(smtp.Security), ct);
            if (!string.IsNullOrEmpty(smtp.User)) await client.AuthenticateAsync(smtp.User, smtp.Password ?? "", ct);
            await client.SendAsync(message, ct);
            await client.DisconnectAsync(true, ct);
        }
        catch (SmtpCommandException e)
        {
            var permanent = e.ErrorCode is SmtpErrorCode.RecipientNotAccepted or SmtpErrorCode.SenderNotAccepted && (int)e.StatusCode >= 500;
            throw new DeliveryException($"SMTP {(int)e.StatusCode} ({e.ErrorCode})", permanent, e);
        }
        catch (AuthenticationException e)
        {
            throw new DeliveryException("SMTP : authentification refusée", false, e);
        }
        catch (Exception e) when (e is SocketException or IOException or SmtpProtocolException or ServiceNotConnectedException or SslHandshakeException or TimeoutException
                                  || (e is OperationCanceledException && !ct.IsCancellationRequested))
        {
            throw new DeliveryException($"SMTP injoignable ({smtp.Host}:{smtp.Port}) : {e.GetType().Name}", false, e);
        }
    }

    public static SecureSocketOptions SecurityOf(string? mode) => (mode ?? "").Trim().ToLowerInvariant() switch
    {
        "none" => SecureSocketOptions.None,
        "starttls" => SecureSocketOptions.StartTls,
        "starttlswhenavailable" => SecureSocketOptions.StartTlsWhenAvailable,
        "sslonconnect" or "ssl" or "tls" => SecureSocketOptions.SslOnConnect,
        _ => SecureSocketOptions.Auto,
    };

    private async Task WritePickupAsync(MimeMessage message, CancellationToken ct)
    {
        var dir = storage.Value.MailPickupDirectory;
        Storage.PrivateFiles.CreateDirectory(dir);
        var name = $"{time.GetUtcNow():yyyyMMdd-HHmmss}-{Guid.NewGuid():N}.eml";
        var temp = Path.Combine(dir, "." + name + ".tmp");
        await using (var file = File.Create(temp))
        {
            await message.WriteToAsync(file, ct);
            file.Flush(flushToDisk: true);
        }
        // The message carries credentials: readable by the service account only.
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(temp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.Move(temp, Path.Combine(dir, name));
    }
}
